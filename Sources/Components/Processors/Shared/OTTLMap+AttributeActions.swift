import OTLP
import OTTL

/// The lookups and edits attribute actions make (`AttributeActions.apply`), on any `OTTLMap`: the
/// model's `[KeyValue]` or an encoded item's `WireAttributeList`. Keys are compared as UTF-8
/// bytes, prepared once per action.
extension OTTLMap {
    func value(_ key: String) -> AnyValue? { index(of: key).map { value(at: $0) } }
    func value(utf8 key: UnsafeRawBufferPointer) -> AnyValue? { index(ofUTF8: key).map { value(at: $0) } }

    /// Removes every entry whose key is `key` or matches `pattern`.
    mutating func remove(utf8 key: UnsafeRawBufferPointer, pattern: GoRegex?) {
        removeAll { $0.sameBytes(as: key) || pattern?.matches(received: $0) == true }
    }

    /// Replaces the value of every entry whose key is `key` or matches `pattern` by its SHA-256
    /// (`AttributeActions.hash`); a string is read as a string, without decoding an AnyValue.
    mutating func hashValues(utf8 key: UnsafeRawBufferPointer, pattern: GoRegex?) {
        for index in 0..<count where keyEquals(at: index, key) || pattern.map({ keyMatches(at: index, $0) }) == true {
            let hashed = replaceString(at: index, length: 64) { text, hex in AttributeActions.writeHash(of: text, into: hex) }
            if !hashed {
                setValue(at: index, .with { $0.stringValue = AttributeActions.hash(value(at: index)) })
            }
        }
    }
}
