import Yams

/// A parsed configuration tree: what YAML files, `--set` flags and component defaults become
/// before they are merged and decoded into typed component configs.
public indirect enum ConfigNode: Sendable, Equatable {
    case null
    /// A scalar's text; `quoted` scalars are always strings, never null.
    case scalar(String, quoted: Bool)
    case mapping([(key: String, value: ConfigNode)])
    case sequence([ConfigNode])

    public static func == (lhs: ConfigNode, rhs: ConfigNode) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.scalar(a, qa), .scalar(b, qb)): a == b && qa == qb
        case let (.sequence(a), .sequence(b)): a == b
        case let (.mapping(a), .mapping(b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }

    public static let emptyMapping = ConfigNode.mapping([])

    /// Parses YAML text. `origin` names the file in errors.
    public static func parse(yaml: String, origin: String) throws(ConfigError) -> ConfigNode {
        do {
            guard let node = try Yams.compose(yaml: yaml) else { return .emptyMapping }
            return try ConfigNode(node, origin: origin)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: origin, path: "", message: "invalid YAML: \(error)")
        }
    }

    init(_ node: Yams.Node, origin: String) throws(ConfigError) {
        switch node {
        case .scalar(let scalar):
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
            if !quoted, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                self = .null
            } else {
                self = .scalar(scalar.string, quoted: quoted)
            }
        case .mapping(let mapping):
            var pairs: [(key: String, value: ConfigNode)] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ConfigError(file: origin, path: "", message: "mapping keys must be strings")
                }
                pairs.append((keyScalar.string, try ConfigNode(value, origin: origin)))
            }
            self = .mapping(pairs)
        case .sequence(let sequence):
            var items: [ConfigNode] = []
            for item in sequence { items.append(try ConfigNode(item, origin: origin)) }
            self = .sequence(items)
        case .alias:
            throw ConfigError(file: origin, path: "", message: "unresolved YAML alias")
        }
    }

    public subscript(key: String) -> ConfigNode? {
        guard case .mapping(let pairs) = self else { return nil }
        return pairs.last(where: { $0.key == key })?.value
    }

    /// The node at a dotted path of mapping keys, if every step exists.
    public func node(at path: [String]) -> ConfigNode? {
        var current = self
        for key in path {
            guard let next = current[key] else { return nil }
            current = next
        }
        return current
    }

    /// `overlay` merged over `self`: mappings merge key by key, anything else in the overlay
    /// replaces what is below it, and a null in the overlay keeps what is below.
    public func merging(_ overlay: ConfigNode) -> ConfigNode {
        switch (self, overlay) {
        case (_, .null): return self
        case (.mapping(var base), .mapping(let top)):
            for (key, value) in top {
                if let index = base.firstIndex(where: { $0.key == key }) {
                    base[index].value = base[index].value.merging(value)
                } else {
                    base.append((key, value))
                }
            }
            return .mapping(base)
        default: return overlay
        }
    }

    /// A mapping holding `value` at the nested `path`.
    public static func nested(_ path: [String], value: ConfigNode) -> ConfigNode {
        path.reversed().reduce(value) { inner, key in .mapping([(key, inner)]) }
    }

    public var keys: [String] {
        guard case .mapping(let pairs) = self else { return [] }
        return pairs.map(\.key)
    }
}

extension ConfigNode: Codable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            self = .mapping(try keyed.allKeys.map { ($0.stringValue, try keyed.decode(ConfigNode.self, forKey: $0)) })
        } else if var list = try? decoder.unkeyedContainer() {
            var items: [ConfigNode] = []
            while !list.isAtEnd { items.append(try list.decode(ConfigNode.self)) }
            self = .sequence(items)
        } else {
            let single = try decoder.singleValueContainer()
            self = single.decodeNil() ? .null : .scalar(try single.decode(String.self), quoted: false)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .scalar(let text, _):
            var single = encoder.singleValueContainer()
            try single.encode(text)
        case .sequence(let items):
            var list = encoder.unkeyedContainer()
            for item in items { try list.encode(item) }
        case .mapping(let pairs):
            var keyed = encoder.container(keyedBy: AnyKey.self)
            for (key, value) in pairs { try keyed.encode(value, forKey: AnyKey(stringValue: key)) }
        }
    }
}
