import OTLP
import OTTL

/// The lookups and edits attribute actions make (`AttributeActions.apply`), on any `OTTLMap`: the
/// model's `[KeyValue]` or an encoded item's `WireAttributeList`.
extension OTTLMap {
    func value(_ key: String) -> AnyValue? { index(of: key).map { value(at: $0) } }
    func contains(_ key: String) -> Bool { index(of: key) != nil }

    private func keyMatches(_ index: Int, _ key: String, _ pattern: GoRegex?) -> Bool {
        keyEquals(at: index, key) || pattern.map { keyMatches(at: index, $0) } == true
    }

    /// Removes every entry whose key is `key` or matches `pattern`.
    mutating func remove(key: String, pattern: GoRegex?) {
        let current = self
        removeAll { current.keyMatches($0, key, pattern) }
    }

    /// Replaces the value of every entry whose key is `key` or matches `pattern` by its SHA-256
    /// (`AttributeActions.hash`); a string is read as a string, without decoding an AnyValue.
    mutating func hashValues(key: String, pattern: GoRegex?) {
        for index in 0..<count where keyMatches(index, key, pattern) {
            let hashed = replaceString(at: index, length: 64) { text, hex in AttributeActions.writeHash(of: text, into: hex) }
            if !hashed {
                setValue(at: index, .with { $0.stringValue = AttributeActions.hash(value(at: index)) })
            }
        }
    }
}
