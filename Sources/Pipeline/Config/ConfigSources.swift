import Foundation

/// Loads the collector's configuration the way the Go collector does: one or more YAML files
/// merged in order (later ones win), then `--set` overrides, with `${env:VAR}`, `${VAR}`,
/// `${env:VAR:-default}` and `${file:PATH}` expanded in scalar values and `$$` standing for a
/// literal `$`.
public struct ConfigSources: Sendable {
    /// Each source's name (a file path or `--set`) and its tree, in merge order.
    public private(set) var layers: [(origin: String, node: ConfigNode)] = []
    public private(set) var warnings: [String] = []

    public init() {}

    public var merged: ConfigNode {
        layers.reduce(ConfigNode.emptyMapping) { $0.merging($1.node) }
    }

    /// A `--config` value as the Go collector reads it: `file:PATH` or a bare path, or
    /// `env:NAME` for YAML held in an environment variable.
    public mutating func add(uri: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) {
        if uri.hasPrefix("env:") {
            let name = String(uri.dropFirst(4))
            guard let text = environment[name] else {
                throw ConfigError(file: uri, path: "", message: "environment variable \(name) is not set")
            }
            try addYAML(text, origin: uri, environment: environment)
        } else {
            try addFile(uri.hasPrefix("file:") ? String(uri.dropFirst(5)) : uri, environment: environment)
        }
    }

    public mutating func addFile(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, path: "", message: "cannot read the config file: \(error.localizedDescription)")
        }
        try addYAML(text, origin: path, environment: environment)
    }

    public mutating func addYAML(_ text: String, origin: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) {
        let node = try ConfigNode.parse(yaml: text, origin: origin)
        guard case .mapping = node else {
            throw ConfigError(file: origin, path: "", message: "the top level of a config must be a mapping")
        }
        layers.append((origin, try expand(node, origin: origin, path: [], environment: environment)))
    }

    /// Applies `key.path=value` (or `key::path=value`); the value is read as YAML.
    public mutating func addSet(_ assignment: String) throws(ConfigError) {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw ConfigError(file: "--set", path: "", message: "expected key.path=value, got \"\(assignment)\"")
        }
        let keyText = String(assignment[..<equals])
        let valueText = String(assignment[assignment.index(after: equals)...])
        let separator = keyText.contains("::") ? "::" : "."
        let path = keyText.components(separatedBy: separator)
        guard !path.contains(where: \.isEmpty) else {
            throw ConfigError(file: "--set", path: keyText, message: "empty key in path")
        }
        let value = try ConfigNode.parse(yaml: valueText.isEmpty ? "\"\"" : valueText, origin: "--set")
        layers.append(("--set", .nested(path, value: value)))
    }

    /// The last source that defines `path` (or its longest defined prefix), for error messages.
    public func origin(of path: [String]) -> String? {
        var prefix = path
        while !prefix.isEmpty {
            if let layer = layers.last(where: { $0.node.node(at: prefix) != nil }) { return layer.origin }
            prefix.removeLast()
        }
        return layers.last?.origin
    }

    private mutating func expand(_ node: ConfigNode, origin: String, path: [String], environment: [String: String]) throws(ConfigError) -> ConfigNode {
        switch node {
        case .null: return .null
        case .scalar(let text, let quoted):
            guard text.contains("$") else { return node }
            let expanded = try expandText(text, origin: origin, path: path, environment: environment)
            // A value that is one whole reference is read as YAML, as the Go collector does, so
            // `brokers: ${env:BROKERS}` can hold a list.
            if !quoted, text.hasPrefix("${"), text.hasSuffix("}"), text.dropFirst(2).firstIndex(of: "$") == nil,
               !expanded.trimmingCharacters(in: .whitespaces).isEmpty,
               let parsed = try? ConfigNode.parse(yaml: expanded, origin: origin) {
                switch parsed {
                case .sequence, .mapping: return parsed
                default: break
                }
            }
            return .scalar(expanded, quoted: quoted)
        case .sequence(let items):
            var out: [ConfigNode] = []
            for (index, item) in items.enumerated() {
                out.append(try expand(item, origin: origin, path: path + ["[\(index)]"], environment: environment))
            }
            return .sequence(out)
        case .mapping(let pairs):
            var out: [(key: String, value: ConfigNode)] = []
            for (key, value) in pairs {
                out.append((key, try expand(value, origin: origin, path: path + [key], environment: environment)))
            }
            return .mapping(out)
        }
    }

    /// `${file:PATH}`: the file's content (a path relative to the working directory, as in Go),
    /// without its final line break, so a secret written by `echo` is the secret.
    private static func fileContent(_ file: String, origin: String, path: [String]) throws(ConfigError) -> String {
        do {
            var text = try String(contentsOfFile: file, encoding: .utf8)
            while text.last?.isNewline == true { text.removeLast() }
            return text
        } catch {
            throw ConfigError(file: origin, path: path.joined(separator: "."),
                              message: "cannot read ${file:\(file)}: \(error.localizedDescription)")
        }
    }

    private mutating func expandText(_ text: String, origin: String, path: [String], environment: [String: String]) throws(ConfigError) -> String {
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.first == "$" {
                result += "$"
                rest = after.dropFirst()
                continue
            }
            guard after.first == "{", let close = after.firstIndex(of: "}") else {
                result += "$"
                rest = after
                continue
            }
            var reference = String(after[after.index(after: after.startIndex)..<close])
            rest = after[after.index(after: close)...]
            var fallback: String?
            if let range = reference.range(of: ":-") {
                fallback = String(reference[range.upperBound...])
                reference = String(reference[..<range.lowerBound])
            }
            if reference.hasPrefix("file:") {
                result += try Self.fileContent(String(reference.dropFirst(5)), origin: origin, path: path)
                continue
            }
            if reference.hasPrefix("env:") { reference.removeFirst(4) }
            guard !reference.isEmpty, !reference.contains(":") else {
                throw ConfigError(file: origin, path: path.joined(separator: "."),
                                  message: "unsupported reference \"${\(reference)}\": only ${env:NAME}, ${NAME}, ${env:NAME:-default} and ${file:PATH} are supported")
            }
            if let value = environment[reference] {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                warnings.append("\(origin): \(path.joined(separator: ".")): environment variable \(reference) is not set; using an empty value")
            }
        }
        return result + rest
    }
}
