import OTLP
import OTTL

/// What attribute actions need of an attribute list, so that one implementation of them
/// (`AttributeActions.apply`) runs on the model's `[KeyValue]` and on an encoded item's
/// `WireAttributeList`. Keys compare exactly; the first of equal keys counts.
protocol AttributeList {
    func value(_ key: String) -> AnyValue?
    func contains(_ key: String) -> Bool
    /// Sets the first entry with `key`, or adds one at the end.
    mutating func set(_ key: String, _ value: AnyValue)
    /// Removes every entry whose key is `key` or matches `pattern`.
    mutating func remove(key: String, pattern: GoRegex?)
    /// Replaces the value of every entry whose key is `key` or matches `pattern`.
    mutating func mapValues(key: String, pattern: GoRegex?, _ transform: (AnyValue) -> AnyValue)
}

extension Array: AttributeList where Element == KeyValue {
    func value(_ key: String) -> AnyValue? { self[ottl: key] }
    func contains(_ key: String) -> Bool { self[ottl: key] != nil }
    mutating func set(_ key: String, _ value: AnyValue) { ottlSet(key, value) }

    mutating func remove(key: String, pattern: GoRegex?) {
        removeAll { $0.key == key || pattern?.matches($0.key) == true }
    }

    mutating func mapValues(key: String, pattern: GoRegex?, _ transform: (AnyValue) -> AnyValue) {
        for index in indices where self[index].key == key || pattern?.matches(self[index].key) == true {
            self[index].value = transform(self[index].value)
        }
    }
}

extension WireAttributeList: AttributeList {
    func value(_ key: String) -> AnyValue? { index(of: key).map { value(at: $0) } }
    func contains(_ key: String) -> Bool { index(of: key) != nil }
    mutating func set(_ key: String, _ value: AnyValue) { set(key, encodedValue: value.encodedBody) }

    private func keyMatches(_ index: Int, _ key: String, _ pattern: GoRegex?) -> Bool {
        var key = key
        if key.withUTF8({ keyEquals(at: index, UnsafeRawBufferPointer($0)) }) { return true }
        guard let pattern else { return false }
        return withKey(at: index) { pattern.matches($0.assumingMemoryBound(to: UInt8.self)) }
    }

    mutating func remove(key: String, pattern: GoRegex?) {
        let list = self
        removeAll { list.keyMatches($0, key, pattern) }
    }

    mutating func mapValues(key: String, pattern: GoRegex?, _ transform: (AnyValue) -> AnyValue) {
        for index in 0..<count where keyMatches(index, key, pattern) {
            setValue(at: index, encodedValue: transform(value(at: index)).encodedBody)
        }
    }
}
