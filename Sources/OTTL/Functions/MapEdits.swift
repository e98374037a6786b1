import OTLP

/// What the map editors and the attributes processor's actions need of a map, so that they run on
/// the model's `[KeyValue]` and on an encoded item's `WireAttributeList` alike. Keys compare
/// exactly; the first of equal keys counts.
public protocol OTTLMap {
    var count: Int { get }
    func key(at index: Int) -> String
    /// Whether the entry's key is these UTF-8 bytes, compared byte for byte as Go compares keys.
    func keyEquals(at index: Int, _ key: UnsafeRawBufferPointer) -> Bool
    /// The first entry whose key is these UTF-8 bytes.
    func index(ofUTF8 key: UnsafeRawBufferPointer) -> Int?
    func keyMatches(at index: Int, _ pattern: GoRegex) -> Bool
    /// The first entry with `key`.
    func index(of key: String) -> Int?
    func value(at index: Int) -> AnyValue
    /// The UTF-8 length of the value when it is a string, else nil.
    func stringByteCount(at index: Int) -> Int?
    func stringValue(at index: Int) -> String?
    mutating func setValue(at index: Int, _ value: AnyValue)
    mutating func setString(at index: Int, _ text: String)
    /// Sets the first entry with `key`, or adds one at the end.
    mutating func set(_ key: String, _ value: AnyValue)
    /// `set` with a key and value prepared once for every item.
    mutating func set(_ entry: OTTLPreparedEntry)
    /// Replaces a string value by the `length` bytes of UTF-8 that `write` makes of its UTF-8;
    /// false (and nothing changes) when the value is no string.
    mutating func replaceString(at index: Int, length: Int,
                                _ write: (_ old: UnsafeRawBufferPointer, _ new: UnsafeMutableRawBufferPointer) -> Void) -> Bool
    /// Removes the entries whose key (UTF-8) `remove` holds for.
    mutating func removeAll(whereKey remove: (UnsafeRawBufferPointer) -> Bool)
}

extension OTTLMap {
    public func keyMatches(at index: Int, _ pattern: GoRegex) -> Bool { pattern.matches(key(at: index)) }
    public mutating func set(_ entry: OTTLPreparedEntry) { set(entry.key, entry.value) }
}

/// A key and value that many items are given (an action's constant), with the encodings an
/// encoded map stores, made once. A class, so that handing it to each item is one reference.
public final class OTTLPreparedEntry: Sendable {
    public let key: String
    public let value: AnyValue
    let keyUTF8: [UInt8]
    public let encodedValue: [UInt8]

    public init(_ key: String, _ value: AnyValue) {
        self.key = key
        self.value = value
        keyUTF8 = Array(key.utf8)
        encodedValue = value.encodedBody
    }
}

extension Array: OTTLMap where Element == KeyValue {
    public func key(at index: Int) -> String { self[index].key }

    public func keyEquals(at index: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        var own = self[index].key
        return own.withUTF8 { UnsafeRawBufferPointer($0).sameBytes(as: key) }
    }

    public func index(ofUTF8 key: UnsafeRawBufferPointer) -> Int? { indices.first { keyEquals(at: $0, key) } }
    public func index(of key: String) -> Int? { firstIndex { $0.key == key } }
    public func value(at index: Int) -> AnyValue { self[index].value }
    public func stringByteCount(at index: Int) -> Int? { stringValue(at: index)?.utf8.count }
    public mutating func setValue(at index: Int, _ value: AnyValue) { self[index].value = value }
    public mutating func set(_ key: String, _ value: AnyValue) { ottlSet(key, value) }

    public func stringValue(at index: Int) -> String? {
        if case .stringValue(let s)? = self[index].value.value { s } else { nil }
    }

    public mutating func setString(at index: Int, _ text: String) { self[index].value.stringValue = text }

    public mutating func replaceString(at index: Int, length: Int,
                                       _ write: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) -> Void) -> Bool {
        guard var old = stringValue(at: index) else { return false }
        let new = old.withUTF8 { old in
            String(unsafeUninitializedCapacity: length) { write(UnsafeRawBufferPointer(old), UnsafeMutableRawBufferPointer($0)); return length }
        }
        setString(at: index, new)
        return true
    }

    public mutating func removeAll(whereKey remove: (UnsafeRawBufferPointer) -> Bool) {
        removeAll { entry in
            var key = entry.key
            return key.withUTF8 { remove(UnsafeRawBufferPointer($0)) }
        }
    }
}

extension WireAttributeList: OTTLMap {
    public func keyMatches(at index: Int, _ pattern: GoRegex) -> Bool {
        withKey(at: index) { pattern.matches(received: $0) }
    }

    public func stringByteCount(at index: Int) -> Int? { withString(at: index) { $0?.count } }
    public mutating func set(_ entry: OTTLPreparedEntry) { set(keyUTF8: entry.keyUTF8, encodedValue: entry.encodedValue) }

    public mutating func setValue(at index: Int, _ value: AnyValue) { setValue(at: index, encodedValue: value.encodedBody) }
    public mutating func set(_ key: String, _ value: AnyValue) { set(key, encodedValue: value.encodedBody) }

    public func stringValue(at index: Int) -> String? {
        withString(at: index) { bytes in bytes.map { String(decoding: $0, as: UTF8.self) } }
    }

    public mutating func setString(at index: Int, _ text: String) {
        setValue(at: index, encodedValue: AnyValue.encoded(string: text))
    }
}

/// An editor's change to a whole map, applied where the map lives (`OTTLContext.edit`).
public enum OTTLMapEdit: Sendable {
    case deleteKey(String)
    case deleteMatchingKeys(GoRegex)
    case keepKeys(Set<String>)
    case keepMatchingKeys(GoRegex)
    /// Strings longer than the limit (in Unicode scalars, as Go counts runes) are cut to it.
    case truncateAll(Int)
    /// String values matching the glob become the replacement.
    case replaceAllMatches(String, String)

    /// `truncate_all`'s cut: the first `limit` Unicode scalars of a longer text, else nil.
    static func truncated(_ text: String, to limit: Int) -> String? {
        guard text.unicodeScalars.count > limit else { return nil }
        return String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit)))
    }

    public func apply<M: OTTLMap>(to map: inout M) {
        switch self {
        case .deleteKey(var key):
            // Keys compare as bytes, as Go compares strings.
            key.withUTF8 { key in map.removeAll { $0.sameBytes(as: UnsafeRawBufferPointer(key)) } }
        case .deleteMatchingKeys(let regex): map.removeAll { regex.matches(received: $0) }
        case .keepKeys(let keys): map.removeAll { !keys.contains(String(decoding: $0, as: UTF8.self)) }
        case .keepMatchingKeys(let regex): map.removeAll { !regex.matches(received: $0) }
        case .truncateAll(let limit):
            for index in 0..<map.count {
                // A string of at most `limit` bytes has at most `limit` scalars: nothing to read.
                guard let bytes = map.stringByteCount(at: index), bytes > limit, let text = map.stringValue(at: index),
                      let cut = Self.truncated(text, to: limit) else { continue }
                map.setString(at: index, cut)
            }
        case .replaceAllMatches(let pattern, let replacement):
            for index in 0..<map.count {
                if let text = map.stringValue(at: index), OTTLEditor.glob(pattern, text) { map.setString(at: index, replacement) }
            }
        }
    }
}
