/// Decodes typed configs from a `ConfigNode`, recording which keys each mapping was asked for,
/// so keys nobody asked for can be reported as unknown (with a suggestion), and every error
/// carries the key path where it happened.
public struct ConfigDecoder {
    public init() {}

    /// Decodes `type` from `node`, merging the type's defaults beneath it when it is a section,
    /// and fails on keys the type does not know, except `inert` ones, which are accepted unread.
    /// Errors carry paths relative to `node`.
    public func decode<T: Decodable>(_ type: T.Type, from node: ConfigNode, inert: [InertKey] = []) throws(ConfigError) -> T {
        let recorder = KeyRecorder(inert: inert)
        let value: T
        do {
            value = try NodeDecoder(node: node, codingPath: [], recorder: recorder).decodeValue(T.self, at: [])
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(path: "", message: "\(error)")
        }
        if let unknown = recorder.unknownKeys().first { throw unknown }
        return value
    }
}

final class KeyRecorder {
    var requested: [String: Set<String>] = [:]
    var present: [String: [String]] = [:]
    var openMaps: Set<String> = []
    let inert: [InertKey]

    init(inert: [InertKey]) { self.inert = inert }

    func unknownKeys() -> [ConfigError] {
        var errors: [ConfigError] = []
        for (path, keys) in present.sorted(by: { $0.key < $1.key }) where !openMaps.contains(path) {
            let known = requested[path] ?? []
            let parent = path.isEmpty ? [] : path.split(separator: ".").map(String.init)
            for key in keys where !known.contains(key) && !inert.contains(where: { $0.matches(parent + [key]) }) {
                var message = "unknown key \"\(key)\""
                if let suggestion = closestMatch(to: key, in: known) { message += " (did you mean \"\(suggestion)\"?)" }
                if !known.isEmpty { message += "; valid keys: \(known.sorted().joined(separator: ", "))" }
                errors.append(ConfigError(path: path.isEmpty ? key : "\(path).\(key)", message: message))
            }
        }
        return errors
    }
}

func pathString(_ codingPath: [any CodingKey]) -> String {
    var text = ""
    for key in codingPath {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text
}

struct IndexKey: CodingKey {
    var stringValue: String { "\(intValue ?? 0)" }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

struct NodeDecoder: Decoder {
    let node: ConfigNode
    let codingPath: [any CodingKey]
    let recorder: KeyRecorder
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    var path: String { pathString(codingPath) }

    func fail(_ message: String) -> ConfigError { ConfigError(path: path, message: message) }

    /// Decodes a child value, applying section defaults and option validation, and giving every
    /// error the child's path.
    func decodeValue<T: Decodable>(_ type: T.Type, at codingPath: [any CodingKey], node override: ConfigNode? = nil) throws -> T {
        var node = override ?? self.node
        if let section = T.self as? any ConfigSection.Type {
            node = SectionDefaults.node(for: section).merging(node)
        }
        if T.self == ConfigNode.self, let raw = node as? T { return raw }
        let child = NodeDecoder(node: node, codingPath: codingPath, recorder: recorder)
        if let option = T.self as? any ConfigOption.Type {
            let text = try child.singleValueContainer().decode(String.self)
            guard let value = Self.makeOption(option, text) as? T else {
                let allowed = Self.allowedValues(option).joined(separator: ", ")
                throw child.fail("invalid value \"\(text)\": must be one of \(allowed)")
            }
            return value
        }
        do {
            return try T(from: child)
        } catch var error as ConfigError {
            if error.path.isEmpty { error.path = child.path }
            throw error
        } catch let error as DecodingError {
            throw child.fail("\(error)")
        }
    }

    private static func makeOption<O: ConfigOption>(_ type: O.Type, _ text: String) -> O? { O(rawValue: text) }
    private static func allowedValues<O: ConfigOption>(_ type: O.Type) -> [String] { O.allCases.map(\.rawValue) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let pairs: [(key: String, value: ConfigNode)]
        switch node {
        case .mapping(let p): pairs = p
        case .null: pairs = []
        case .scalar(let text, _): throw fail("expected a mapping of keys, got \"\(text)\"")
        case .sequence: throw fail("expected a mapping of keys, got a list")
        }
        recorder.present[path, default: []].append(contentsOf: pairs.map(\.key).filter { key in
            !(recorder.present[path]?.contains(key) ?? false)
        })
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(pairs: pairs, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch node {
        case .sequence(let items): return NodeUnkeyedContainer(items: items, decoder: self)
        case .null: return NodeUnkeyedContainer(items: [], decoder: self)
        case .scalar(let text, _): throw fail("expected a list, got \"\(text)\"")
        case .mapping: throw fail("expected a list, got a mapping")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        NodeScalarContainer(decoder: self)
    }
}

struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let pairs: [(key: String, value: ConfigNode)]
    let decoder: NodeDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        // Asking for every key means the type is a free-form map: any key is valid.
        decoder.recorder.openMaps.insert(decoder.path)
        return pairs.compactMap { Key(stringValue: $0.key) }
    }

    private func value(_ key: Key) -> ConfigNode? {
        decoder.recorder.requested[decoder.path, default: []].insert(key.stringValue)
        return pairs.last(where: { $0.key == key.stringValue })?.value
    }

    func contains(_ key: Key) -> Bool { value(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let node = value(key) else { return true }
        return node == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let path = codingPath + [key]
        guard let node = value(key) else {
            if T.self is any ConfigSection.Type { return try decoder.decodeValue(T.self, at: path, node: .null) }
            throw ConfigError(path: pathString(path), message: "missing required key")
        }
        return try decoder.decodeValue(T.self, at: path, node: node)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let node = value(key) else { return nil }
        if node == .null, !(T.self is any ConfigSection.Type) { return nil }
        return try decoder.decodeValue(T.self, at: codingPath + [key], node: node)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(Wrapped<Bool>.self, forKey: key).value }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(Wrapped<String>.self, forKey: key).value }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(Wrapped<Double>.self, forKey: key).value }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(Wrapped<Float>.self, forKey: key).value }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(Wrapped<Int>.self, forKey: key).value }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(Wrapped<Int8>.self, forKey: key).value }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(Wrapped<Int16>.self, forKey: key).value }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(Wrapped<Int32>.self, forKey: key).value }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(Wrapped<Int64>.self, forKey: key).value }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(Wrapped<UInt>.self, forKey: key).value }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(Wrapped<UInt8>.self, forKey: key).value }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(Wrapped<UInt16>.self, forKey: key).value }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(Wrapped<UInt32>.self, forKey: key).value }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(Wrapped<UInt64>.self, forKey: key).value }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: value(key) ?? .null, codingPath: codingPath + [key], recorder: decoder.recorder).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(node: value(key) ?? .null, codingPath: codingPath + [key], recorder: decoder.recorder).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        NodeDecoder(node: value(key) ?? .null, codingPath: codingPath + [key], recorder: decoder.recorder)
    }
}

/// Routes primitive decodes through `decodeValue`, so they get paths like any other value.
private struct Wrapped<V: Decodable>: Decodable {
    let value: V
    init(from decoder: any Decoder) throws { value = try decoder.singleValueContainer().decode(V.self) }
}

struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let items: [ConfigNode]
    let decoder: NodeDecoder
    var currentIndex = 0

    init(items: [ConfigNode], decoder: NodeDecoder) {
        self.items = items
        self.decoder = decoder
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return true }
        if items[currentIndex] == .null { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard !isAtEnd else { throw decoder.fail("list has too few items") }
        defer { currentIndex += 1 }
        return try decoder.decodeValue(T.self, at: codingPath + [IndexKey(currentIndex)], node: items[currentIndex])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        defer { currentIndex += 1 }
        return try NodeDecoder(node: items[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)], recorder: decoder.recorder).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        defer { currentIndex += 1 }
        return try NodeDecoder(node: items[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)], recorder: decoder.recorder).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { decoder }
}

struct NodeScalarContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.node == .null }

    private func text(_ expected: String) throws -> String {
        switch decoder.node {
        case .scalar(let text, _): return text
        case .null: throw decoder.fail("expected \(expected), got nothing")
        case .mapping: throw decoder.fail("expected \(expected), got a mapping")
        case .sequence: throw decoder.fail("expected \(expected), got a list")
        }
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        let value = try text("true or false")
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw decoder.fail("expected true or false, got \"\(value)\"")
        }
    }

    func decode(_ type: String.Type) throws -> String { try text("a string") }

    private func number<N: LosslessStringConvertible>(_ kind: String) throws -> N {
        let value = try text(kind)
        guard let parsed = N(value.replacing("_", with: "")) else {
            throw decoder.fail("expected \(kind), got \"\(value)\"")
        }
        return parsed
    }

    func decode(_ type: Double.Type) throws -> Double { try number("a number") }
    func decode(_ type: Float.Type) throws -> Float { try number("a number") }
    func decode(_ type: Int.Type) throws -> Int { try number("an integer") }
    func decode(_ type: Int8.Type) throws -> Int8 { try number("an integer") }
    func decode(_ type: Int16.Type) throws -> Int16 { try number("an integer") }
    func decode(_ type: Int32.Type) throws -> Int32 { try number("an integer") }
    func decode(_ type: Int64.Type) throws -> Int64 { try number("an integer") }
    func decode(_ type: UInt.Type) throws -> UInt { try number("a non-negative integer") }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try number("a non-negative integer") }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try number("a non-negative integer") }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try number("a non-negative integer") }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try number("a non-negative integer") }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.decodeValue(T.self, at: codingPath)
    }
}
