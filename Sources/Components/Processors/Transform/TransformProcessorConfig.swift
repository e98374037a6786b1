import OTTL
import Pipeline

/// `processors.transform`: per signal, groups of OTTL statements for a context, run in order.
/// A group is `{context, conditions, statements, error_mode}`, or the whole list is plain
/// statement strings whose context is inferred from their paths.
public struct TransformProcessorConfig: ComponentConfig {
    public var error_mode: ErrorModeOption = .ignore
    public var trace_statements: [ConfigNode] = []
    public var metric_statements: [ConfigNode] = []
    public var log_statements: [ConfigNode] = []
    public var flatten_data = false

    public init() {}

    /// One group as written, before its context is known.
    struct Group {
        var context: String?
        var conditions: [String]
        var statements: [String]
        var errorMode: OTTLErrorMode
        var path: String
    }

    func groups(_ key: String, _ nodes: [ConfigNode]) throws(ConfigError) -> [Group] {
        let plain = nodes.compactMap { if case .scalar(let text, _) = $0 { text } else { nil } }
        if plain.count == nodes.count {
            return plain.isEmpty ? [] : [Group(context: nil, conditions: [], statements: plain, errorMode: error_mode.mode, path: key)]
        }
        guard plain.isEmpty else {
            throw ConfigError(path: key, message: "mixes plain statements and groups; use one form per list")
        }
        var groups: [Group] = []
        for (index, node) in nodes.enumerated() {
            let path = "\(key)[\(index)]"
            guard case .mapping(let entries) = node else { throw ConfigError(path: path, message: "expected a group {context, statements}") }
            var group = Group(context: nil, conditions: [], statements: [], errorMode: error_mode.mode, path: path)
            for (name, value) in entries {
                switch (name, value) {
                case ("context", .scalar(let text, _)): group.context = text == "instrumentation_scope" ? "scope" : text
                case ("statements", .sequence(let items)): group.statements = try strings(items, "\(path).statements")
                case ("conditions", .sequence(let items)): group.conditions = try strings(items, "\(path).conditions")
                case ("error_mode", .scalar(let text, _)):
                    guard let mode = OTTLErrorMode(rawValue: text) else {
                        throw ConfigError(path: "\(path).error_mode", message: "must be one of ignore, silent, propagate")
                    }
                    group.errorMode = mode
                case ("context", _), ("statements", _), ("conditions", _), ("error_mode", _):
                    throw ConfigError(path: "\(path).\(name)", message: "has the wrong form")
                default:
                    throw ConfigError(path: "\(path).\(name)", message: "unknown key; expected context, conditions, statements, error_mode")
                }
            }
            groups.append(group)
        }
        return groups
    }

    private func strings(_ items: [ConfigNode], _ path: String) throws(ConfigError) -> [String] {
        var out: [String] = []
        for (index, item) in items.enumerated() {
            guard case .scalar(let text, _) = item else { throw ConfigError(path: "\(path)[\(index)]", message: "expected a string") }
            out.append(text)
        }
        return out
    }

    public func validate() throws(ConfigError) {
        _ = try TransformPlan(config: self)
        if flatten_data { throw ConfigError(path: "flatten_data", message: "not supported yet") }
    }
}
