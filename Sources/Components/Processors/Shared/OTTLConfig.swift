import Logging
import OTTL
import Pipeline

/// `error_mode` as processors spell it.
public enum ErrorModeOption: String, ConfigOption {
    case ignore, silent, propagate

    var mode: OTTLErrorMode { OTTLErrorMode(rawValue: rawValue) ?? .ignore }
}

extension OTTLProgram {
    /// Parses and checks statements and conditions from config lists, naming the list entry and
    /// the column on error.
    static func configured(statements: [String] = [], statementsPath: String = "",
                           conditions: [String] = [], conditionsPath: String = "") throws(ConfigError) -> OTTLProgram<C> {
        do {
            return try OTTLProgram(statements: statements, conditions: conditions)
        } catch {
            let path = statements.firstIndex(of: error.text).map { "\(statementsPath)[\($0)]" }
                ?? conditions.firstIndex(of: error.text).map { "\(conditionsPath)[\($0)]" }
                ?? (statements.isEmpty ? conditionsPath : statementsPath)
            throw ConfigError(path: path, message: "\(error.message) at column \(error.column) of \"\(error.text)\"")
        }
    }
}

/// A group of OTTL statements or conditions as written in a processor's config: an object
/// `{context, conditions, statements, error_mode}`, or the whole list as plain strings (one group
/// whose context is inferred).
struct OTTLGroupConfig {
    enum Plain { case statements, conditions }

    var context: String?
    var conditions: [String] = []
    var statements: [String] = []
    var errorMode: OTTLErrorMode
    var path: String

    static func parse(_ key: String, _ nodes: [ConfigNode], plain: Plain, errorMode: OTTLErrorMode) throws(ConfigError) -> [OTTLGroupConfig] {
        let texts = nodes.compactMap { if case .scalar(let text, _) = $0 { text } else { nil } }
        if texts.count == nodes.count {
            guard !texts.isEmpty else { return [] }
            var group = OTTLGroupConfig(errorMode: errorMode, path: key)
            if plain == .statements { group.statements = texts } else { group.conditions = texts }
            return [group]
        }
        guard texts.isEmpty else { throw ConfigError(path: key, message: "mixes plain strings and groups; use one form per list") }
        let allowed = plain == .statements ? ["context", "conditions", "statements", "error_mode"] : ["context", "conditions", "error_mode"]
        var groups: [OTTLGroupConfig] = []
        for (index, node) in nodes.enumerated() {
            let path = "\(key)[\(index)]"
            guard case .mapping(let entries) = node else { throw ConfigError(path: path, message: "expected a group {\(allowed.joined(separator: ", "))}") }
            var group = OTTLGroupConfig(errorMode: errorMode, path: path)
            for (name, value) in entries {
                guard allowed.contains(name) else {
                    throw ConfigError(path: "\(path).\(name)", message: "unknown key; expected \(allowed.joined(separator: ", "))")
                }
                switch (name, value) {
                case ("context", .scalar(let text, _)): group.context = text == "instrumentation_scope" ? "scope" : text
                case ("statements", .sequence(let items)): group.statements = try strings(items, "\(path).statements")
                case ("conditions", .sequence(let items)): group.conditions = try strings(items, "\(path).conditions")
                case ("error_mode", .scalar(let text, _)):
                    guard let mode = OTTLErrorMode(rawValue: text) else {
                        throw ConfigError(path: "\(path).error_mode", message: "must be one of ignore, silent, propagate")
                    }
                    group.errorMode = mode
                default:
                    throw ConfigError(path: "\(path).\(name)", message: "has the wrong form")
                }
            }
            groups.append(group)
        }
        return groups
    }

    private static func strings(_ items: [ConfigNode], _ path: String) throws(ConfigError) -> [String] {
        var out: [String] = []
        for (index, item) in items.enumerated() {
            guard case .scalar(let text, _) = item else { throw ConfigError(path: "\(path)[\(index)]", message: "expected a string") }
            out.append(text)
        }
        return out
    }

    /// The group's context: as written, or the most specific one its paths name (in the order
    /// `allowed` lists them), as the Go collector infers it.
    func context(allowed: [String]) throws(ConfigError) -> String {
        if let context {
            guard allowed.contains(context) else {
                throw ConfigError(path: "\(path).context", message: "must be one of \(allowed.sorted().joined(separator: ", ")), got \"\(context)\"")
            }
            return context
        }
        let named: Set<String>
        do {
            named = try OTTLProgram<ResourceContext>.contexts(statements: statements, conditions: conditions)
        } catch {
            throw ConfigError(path: path, message: "\(error.message) at column \(error.column) of \"\(error.text)\"")
        }
        guard let inferred = allowed.first(where: named.contains) else {
            throw ConfigError(path: path, message: "cannot infer the context: prefix paths with one of \(allowed.joined(separator: ", ")) (like span.name)")
        }
        return inferred
    }

    /// The group parsed and checked for context `C`.
    func group<C: OTTLContext>() throws(ConfigError) -> OTTLGroup<C> {
        OTTLGroup(try .configured(statements: statements, statementsPath: context == nil ? path : "\(path).statements",
                                  conditions: conditions, conditionsPath: context == nil ? path : "\(path).conditions"),
                  errorMode: errorMode)
    }
}

/// Runs a processor's OTTL over one batch: an evaluation error under `propagate` fails the batch
/// as permanent; the first error ignored under `ignore` is logged once for the batch. Other errors
/// of `body` (reading encoded data) pass through.
func runOTTL(_ processor: String, ignoredAs consequence: String, logger: Logger,
             _ body: ((OTTLRuntimeError) -> Void) throws -> Void) throws {
    var firstError: OTTLRuntimeError?
    do {
        try body { error in if firstError == nil { firstError = error } }
    } catch let error as OTTLRuntimeError {
        throw PipelineError.permanent("\(processor): \(error.message)")
    }
    if let firstError { logger.warning("\(processor) failed (\(consequence)): \(firstError.message)") }
}
