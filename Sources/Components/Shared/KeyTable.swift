/// Attribute keys looked up by their bytes, for code that reads encoded attributes without making
/// a string of each key. Keys are grouped by length and told apart by their first and last eight
/// bytes as words, which settles every comparison of keys of 8 to 16 bytes and almost every other
/// one without comparing memory; equal keys match in the order given.
struct KeyTable<Value: Sendable>: Sendable {
    /// A key's words, where its bytes start in `keyBytes`, and its value; copying one retains
    /// nothing (for values that hold no references).
    private struct Entry: Sendable {
        let head: UInt64
        let tail: UInt64
        let offset: Int
        let value: Value
    }

    /// The entries sorted by length: `first[n]..<first[n + 1]` are those of length n.
    private let entries: [Entry]
    private let first: [Int]
    /// Every key's bytes, one after another.
    private let keyBytes: [UInt8]

    init(_ keys: [(key: String, value: Value)]) {
        let sorted = keys.enumerated().map { index, entry in (index, Array(entry.key.utf8), entry.value) }
            .sorted { ($0.1.count, $0.0) < ($1.1.count, $1.0) }
        var bytes: [UInt8] = []
        entries = sorted.map { _, key, value in
            let (head, tail) = key.withUnsafeBytes { Self.ends($0) }
            defer { bytes += key }
            return Entry(head: head, tail: tail, offset: bytes.count, value: value)
        }
        keyBytes = bytes
        let longest = sorted.last?.1.count ?? 0
        first = (0...longest + 1).map { length in sorted.firstIndex { $0.1.count >= length } ?? sorted.count }
    }

    /// The first and last eight bytes of `key`; zero for keys shorter than eight.
    @inline(__always)
    private static func ends(_ key: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        guard key.count >= 8 else { return (0, 0) }
        return (key.loadUnaligned(as: UInt64.self), key.loadUnaligned(fromByteOffset: key.count - 8, as: UInt64.self))
    }

    /// Calls `body` with the value of each key equal to `key`, in the order given; `body` returns
    /// false to stop.
    @inline(__always)
    func forEachMatch(_ key: UnsafeRawBufferPointer, _ body: (Value) -> Bool) {
        guard key.count + 1 < first.count else { return }
        let (head, tail) = Self.ends(key)
        for index in first[key.count]..<first[key.count + 1] {
            let entry = entries[index]
            guard entry.head == head, entry.tail == tail else { continue }
            if key.count < 8 || key.count > 16 {
                let same = keyBytes.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[entry.offset..<(entry.offset + key.count)]).sameBytes(as: key) }
                guard same else { continue }
            }
            if !body(entry.value) { return }
        }
    }

    /// The value of the first key equal to `key`.
    @inline(__always)
    func value(_ key: UnsafeRawBufferPointer) -> Value? {
        var found: Value?
        forEachMatch(key) { found = $0; return false }
        return found
    }
}
