import CBoringSHA256
import Foundation
import OTLP
import OTTL
import Pipeline

/// One entry of `actions` (attributes processor) or `attributes` (resource processor).
public struct AttributeActionConfig: ConfigSection {
    public var key = ""
    public var action = ""
    public var value: ConfigNode?
    public var from_attribute = ""
    public var from_context = ""
    public var pattern = ""
    public var converted_type = ""
    public init() {}
}

/// The actions checked and ready: insert, update, upsert, delete, hash, extract, convert.
struct AttributeActions: Sendable {
    enum Source: Sendable {
        /// A constant, with the action's key, prepared once.
        case value(OTTLPreparedEntry)
        case attribute(String)
        case context(String)
    }

    enum Kind: Sendable {
        case insert(Source), update(Source), upsert(Source)
        case delete, hash, extract
        case convert(String)
    }

    /// A class, so that applying it to every item passes one reference: as a struct, each
    /// application copied its key, kind and pattern with a retain and release apiece.
    final class Action: Sendable {
        let key: String
        let kind: Kind
        let pattern: GoRegex?
        /// The key's UTF-8, which every lookup compares with.
        let keyUTF8: [UInt8]

        init(key: String, kind: Kind, pattern: GoRegex?) {
            self.key = key
            self.kind = kind
            self.pattern = pattern
            keyUTF8 = Array(key.utf8)
        }
    }

    let actions: [Action]

    init(_ configs: [AttributeActionConfig], path: String) throws(ConfigError) {
        var actions: [Action] = []
        for (index, config) in configs.enumerated() {
            let at = "\(path)[\(index)]"
            let name = config.action.lowercased()
            var pattern: GoRegex?
            if !config.pattern.isEmpty {
                do { pattern = try GoRegex.compile(config.pattern) } catch { throw ConfigError(path: "\(at).pattern", message: error.description) }
            }
            let sources = [config.value != nil && config.value != .null, !config.from_attribute.isEmpty, !config.from_context.isEmpty].filter { $0 }.count
            func source() throws(ConfigError) -> Source {
                guard sources == 1 else { throw ConfigError(path: at, message: "\(name) needs exactly one of value, from_attribute, from_context") }
                if let value = config.value, value != .null { return .value(OTTLPreparedEntry(config.key, Self.anyValue(value))) }
                return config.from_attribute.isEmpty ? .context(config.from_context) : .attribute(config.from_attribute)
            }
            if config.key.isEmpty, !(["delete", "hash"].contains(name) && pattern != nil) {
                throw ConfigError(path: "\(at).key", message: "is required for \(name.isEmpty ? "an action" : name)")
            }
            let kind: Kind
            switch name {
            case "insert": kind = .insert(try source())
            case "update": kind = .update(try source())
            case "upsert": kind = .upsert(try source())
            case "delete", "hash":
                guard sources == 0 else { throw ConfigError(path: at, message: "\(name) takes no value, from_attribute or from_context") }
                kind = name == "delete" ? .delete : .hash
            case "extract":
                guard let pattern, !pattern.groupNames.isEmpty else {
                    throw ConfigError(path: "\(at).pattern", message: "extract needs a pattern with named groups")
                }
                kind = .extract
            case "convert":
                guard ["int", "double", "string"].contains(config.converted_type) else {
                    throw ConfigError(path: "\(at).converted_type", message: "must be int, double or string")
                }
                kind = .convert(config.converted_type)
            default:
                throw ConfigError(path: "\(at).action", message: "must be one of insert, update, upsert, delete, hash, extract, convert; got \"\(config.action)\"")
            }
            actions.append(Action(key: config.key, kind: kind, pattern: pattern))
        }
        self.actions = actions
    }

    /// A YAML value as an OTLP value: quoted text stays a string, otherwise int, double, bool.
    private static func anyValue(_ node: ConfigNode) -> AnyValue {
        switch node {
        case .scalar(let text, let quoted):
            if quoted { return .with { $0.stringValue = text } }
            if let int = Int64(text) { return .with { $0.intValue = int } }
            if let double = Double(text) { return .with { $0.doubleValue = double } }
            if text == "true" || text == "false" { return .with { $0.boolValue = text == "true" } }
            return .with { $0.stringValue = text }
        case .sequence(let items): return .with { $0.arrayValue.values = items.map(anyValue) }
        case .mapping(let entries):
            return .with { $0.kvlistValue.values = entries.map { entry in .with { $0.key = entry.key; $0.value = anyValue(entry.value) } } }
        case .null: return AnyValue()
        }
    }

    func apply<L: OTTLMap>(to attributes: inout L, metadata: RequestMetadata) {
        for action in actions {
            action.keyUTF8.withUnsafeBytes { key in apply(action, key, to: &attributes, metadata: metadata) }
        }
    }

    private func apply<L: OTTLMap>(_ action: Action, _ key: UnsafeRawBufferPointer, to attributes: inout L, metadata: RequestMetadata) {
        switch action.kind {
        case .insert(let source):
            if attributes.index(ofUTF8: key) == nil { set(action.key, source, &attributes, metadata) }
        case .update(let source):
            if attributes.index(ofUTF8: key) != nil { set(action.key, source, &attributes, metadata) }
        case .upsert(let source):
            set(action.key, source, &attributes, metadata)
        case .delete:
            attributes.remove(utf8: key, pattern: action.pattern)
        case .hash:
            attributes.hashValues(utf8: key, pattern: action.pattern)
        case .extract:
            guard let pattern = action.pattern, case .stringValue(let text)? = attributes.value(utf8: key)?.value,
                  let groups = pattern.firstMatch(text) else { return }
            let utf8 = Array(text.utf8)
            for (name, number) in pattern.groupNames {
                guard number < groups.count, let range = groups[number] else { continue }
                attributes.set(name, .with { $0.stringValue = String(decoding: utf8[range], as: UTF8.self) })
            }
        case .convert(let type):
            guard let value = attributes.value(utf8: key), let converted = Self.convert(value, to: type) else { return }
            attributes.set(action.key, converted)
        }
    }

    private func set<L: OTTLMap>(_ key: String, _ source: Source, _ attributes: inout L, _ metadata: RequestMetadata) {
        if case .value(let prepared) = source { return attributes.set(prepared) }
        if let value = resolve(source, attributes, metadata) { attributes.set(key, value) }
    }

    private func resolve<L: OTTLMap>(_ source: Source, _ attributes: L, _ metadata: RequestMetadata) -> AnyValue? {
        switch source {
        case .value(let prepared): return prepared.value
        case .attribute(let key): return attributes.value(key)
        case .context(let key):
            let name = key.hasPrefix("metadata.") ? String(key.dropFirst("metadata.".count)) : key
            guard let values = metadata.headers[name.lowercased()], !values.isEmpty else { return nil }
            return .with { $0.stringValue = values.joined(separator: ";") }
        }
    }

    /// SHA-256 hex of the value's bytes: strings as UTF-8, bools as one byte, ints and doubles
    /// as 8 little-endian bytes; other types hash nothing.
    static func hash(_ value: AnyValue) -> String {
        switch value.value {
        case .stringValue(let s): return hash(s)
        case .boolValue(let b): return withUnsafeBytes(of: b ? UInt8(1) : 0) { hash($0) }
        case .intValue(let i): return withUnsafeBytes(of: i.littleEndian) { hash($0) }
        case .doubleValue(let d): return withUnsafeBytes(of: d.bitPattern.littleEndian) { hash($0) }
        default: return ""
        }
    }

    static func hash(_ text: String) -> String {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: 64) { text in
            writeHash(of: bytes, into: UnsafeMutableRawBufferPointer(text))
            return 64
        }
    }

    /// Writes the lowercase hex of the SHA-256 of `bytes` (64 bytes) into `hex`: the encoded path
    /// stores it without making a String. BoringSSL's one-shot call, on the stack (CBoringSHA256).
    static func writeHash(of bytes: UnsafeRawBufferPointer, into hex: UnsafeMutableRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digest in
            _ = CCryptoBoringSSL_SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, digest.baseAddress)
            writeHex(UnsafeRawBufferPointer(digest), into: hex)
        }
    }

    static func convert(_ value: AnyValue, to type: String) -> AnyValue? {
        switch (type, value.value) {
        case ("int", .intValue): return value
        case ("int", .doubleValue(let d)) where d.isFinite: return .with { $0.intValue = Int64(d.rounded(.towardZero)) }
        case ("int", .boolValue(let b)): return .with { $0.intValue = b ? 1 : 0 }
        case ("int", .stringValue(let s)): return Int64(s).map { i in .with { $0.intValue = i } }
        case ("double", .doubleValue): return value
        case ("double", .intValue(let i)): return .with { $0.doubleValue = Double(i) }
        case ("double", .boolValue(let b)): return .with { $0.doubleValue = b ? 1 : 0 }
        case ("double", .stringValue(let s)): return Double(s).map { d in .with { $0.doubleValue = d } }
        case ("string", _): return .with { $0.stringValue = OTTLValue(value).text }
        default: return nil
        }
    }
}
