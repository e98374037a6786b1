import SwiftProtobuf

/// A message's repeated KeyValue field (its attributes) that can change without being decoded:
/// entries keep pointing into the received bytes until one is set, and only then is that one
/// value encoded. Lookups compare key bytes; the first of equal keys counts, as in the model
/// (`[KeyValue][ottl:]`).
///
/// Invariant: like `WireFields`, it lives inside the `withUnsafeBytes` of its buffer.
public struct WireAttributeList {
    // Entries are plain offsets, so that copying, reordering and dropping them is a memory copy
    // without reference counting: statements touch every entry of every item. Bytes set by an
    // edit go into `owned`, one buffer per list that `reset` keeps for the next item.
    @usableFromInline
    struct Bytes {
        /// Where the bytes start: in the message's buffer at `start`, or in `owned` at `~start`
        /// when negative. Offsets fit 32 bits, as `WireFields` assumes of every buffer.
        @usableFromInline var start: Int32
        @usableFromInline var count: Int32

        @inlinable init(start: Int32, count: Int32) {
            self.start = start
            self.count = count
        }

        @inlinable init(_ range: Range<Int>) { self.init(start: Int32(range.lowerBound), count: Int32(range.count)) }
    }

    @usableFromInline
    struct Entry {
        /// Where the whole KeyValue lies as received, until the entry changes (`originalStart`
        /// -1 after): written back as it is, with whatever else it held (an absent value,
        /// unknown fields).
        @usableFromInline var originalStart: Int32
        @usableFromInline var originalEnd: Int32
        /// The key, where it lies or written anew.
        @usableFromInline var key: Bytes
        /// The AnyValue's encoding (its body, without tag and length).
        @usableFromInline var value: Bytes

        @inlinable var original: Range<Int>? { originalStart >= 0 ? Int(originalStart)..<Int(originalEnd) : nil }
    }

    public private(set) var message: WireFields
    public private(set) var field: Int
    @usableFromInline var entries: [Entry] = []
    @usableFromInline var owned: [UInt8] = []
    /// Where the field's occurrences lie in the message, tag to end, as read, those that follow
    /// each other as one stretch: writing the message again copies what lies between them
    /// without walking its fields once more.
    private var occurrences: [(start: Int32, end: Int32)] = []
    /// Whether any entry was set, added or removed.
    public private(set) var isChanged = false

    public init(_ message: WireFields, field: Int) {
        self.message = message
        self.field = field
        // One allocation for the common sizes: growing from empty cost four per item.
        entries.reserveCapacity(16)
        occurrences.reserveCapacity(16)
        readEntries()
    }

    /// An empty list of no message, to `reset` to each item's: its storage is kept from one item
    /// to the next.
    public init() {
        message = WireFields.empty
        field = 0
    }

    /// The list of `message`'s `field`, in the storage this one had.
    public mutating func reset(_ message: WireFields, field: Int) {
        self.message = message
        self.field = field
        entries.removeAll(keepingCapacity: true)
        owned.removeAll(keepingCapacity: true)
        occurrences.removeAll(keepingCapacity: true)
        isChanged = false
        readEntries()
    }

    private mutating func readEntries() {
        // One walk from the field's first occurrence (or the message's start) to its last, without a closure
        // per entry: every processor reads every item's list. Occurrences that follow each other
        // (the usual shape) are kept as one stretch.
        guard let last = message.lastTag(field) else { return }
        let buffer = message.buffer
        var reader = WireReader(buffer, range: message.walkStart(field)..<message.range.upperBound)
        while reader.offset <= last, let (start, entry) = try? reader.next(lengthDelimited: field) {
            if let previous = occurrences.last, Int(previous.end) == start {
                occurrences[occurrences.count - 1].end = Int32(entry.upperBound)
            } else {
                occurrences.append((Int32(start), Int32(entry.upperBound)))
            }
            let (key, value) = WireFields.keyValue(buffer, entry)
            let absent = Bytes(start: Int32(entry.upperBound), count: 0)
            entries.append(Entry(originalStart: Int32(entry.lowerBound), originalEnd: Int32(entry.upperBound),
                                 key: key.map(Bytes.init) ?? absent, value: value.map(Bytes.init) ?? absent))
        }
    }

    public var count: Int { entries.count }

    @inlinable
    func withBytes<T, E: Error>(_ bytes: Bytes, _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        if bytes.start >= 0 {
            return try body(UnsafeRawBufferPointer(rebasing: message.buffer[Int(bytes.start)..<Int(bytes.start + bytes.count)]))
        }
        let start = Int(~bytes.start), end = start + Int(bytes.count)
        // Result-wrapped: Array.withUnsafeBytes rethrows untyped errors.
        let result: Result<T, E> = owned.withUnsafeBytes { raw in
            do throws(E) { return .success(try body(UnsafeRawBufferPointer(rebasing: raw[start..<end]))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Keeps `bytes` in `owned`.
    @usableFromInline
    mutating func own(_ bytes: some Collection<UInt8>) -> Bytes {
        let start = owned.count
        owned.append(contentsOf: bytes)
        return Bytes(start: ~Int32(start), count: Int32(owned.count - start))
    }

    /// The entry's key as UTF-8.
    @inlinable
    public func withKey<T>(at index: Int, _ body: (UnsafeRawBufferPointer) -> T) -> T { withBytes(entries[index].key, body) }

    public func key(at index: Int) -> String { withKey(at: index) { String(decoding: $0, as: UTF8.self) } }

    public func index(of key: String) -> Int? {
        var key = key
        return key.withUTF8 { index(ofUTF8: UnsafeRawBufferPointer($0)) }
    }

    public func index(ofUTF8 key: UnsafeRawBufferPointer) -> Int? {
        for index in entries.indices where keyEquals(at: index, key) { return index }
        return nil
    }

    /// Whether the entry's key is the UTF-8 `key`.
    public func keyEquals(at index: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        // Most keys differ in length: no need to reach the bytes.
        guard Int(entries[index].key.count) == key.count else { return false }
        return withKey(at: index) { $0.sameBytes(as: key) }
    }

    /// The encoding of the entry's AnyValue (its body).
    @inlinable
    public func withValue<T, E: Error>(at index: Int, _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        try withBytes(entries[index].value, body)
    }

    /// The UTF-8 of the entry's value when it is a string (the last member of its oneof is), else nil.
    @inlinable
    public func withString<T>(at index: Int, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
        withValue(at: index) { value in body(Self.stringMember(value)) }
    }

    /// The `string_value` of an AnyValue's encoding when that is the member of its oneof that
    /// counts (the last present), else nil, as also for an encoding that does not parse. One
    /// pass over the few bytes: `truncate_all` asks this of every attribute.
    public static func stringMember(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        // The usual shape, a string and nothing else, read directly.
        if let text = WireFields.stringAlone(value, 0..<value.count) { return UnsafeRawBufferPointer(rebasing: value[text]) }
        var reader = WireReader(value)
        var string: Range<Int>?
        var last: UInt64 = 0
        do {
            while !reader.isAtEnd {
                let (field, wireType) = try reader.tag()
                if field == 1 {
                    guard wireType == .lengthDelimited else { return nil }
                    string = try reader.lengthDelimited()
                } else {
                    try reader.skip(wireType)
                }
                if field <= 7 { last = field }
            }
        } catch {
            return nil
        }
        guard last == 1, let string else { return nil }
        return UnsafeRawBufferPointer(rebasing: value[string])
    }

    /// The entry's value decoded; an undecodable value reads as empty.
    public func value(at index: Int) -> AnyValue {
        withValue(at: index) { (try? AnyValue(serializedBytes: Array($0))) ?? AnyValue() }
    }

    /// Sets the value of the first entry with `key`, or adds one at the end.
    public mutating func set(_ key: String, encodedValue: [UInt8]) {
        set(keyUTF8: Array(key.utf8), encodedValue: encodedValue)
    }

    /// `set(_:encodedValue:)` with the key's UTF-8 given.
    public mutating func set(keyUTF8: [UInt8], encodedValue: [UInt8]) {
        isChanged = true
        if let index = keyUTF8.withUnsafeBytes({ index(ofUTF8: $0) }) {
            setValue(at: index, encodedValue: encodedValue)
        } else {
            let key = own(keyUTF8)
            entries.append(Entry(originalStart: -1, originalEnd: -1, key: key, value: own(encodedValue)))
        }
    }

    /// Replaces a string value by the `length` bytes of UTF-8 that `write` makes of its UTF-8;
    /// false when the value is no string.
    public mutating func replaceString(at index: Int, length: Int,
                                       _ write: (_ old: UnsafeRawBufferPointer, _ new: UnsafeMutableRawBufferPointer) -> Void) -> Bool {
        rewriteString(at: index) { old, out in
            // Written on the stack and appended in one copy: growing `out` by a run of zeros
            // first went through a generic append element by element.
            withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) { scratch in
                write(old, scratch)
                out.append(contentsOf: UnsafeRawBufferPointer(scratch).assumingMemoryBound(to: UInt8.self))
            }
            return true
        } != nil
    }

    /// Replaces a string value by the UTF-8 that `write` appends to `out`, given the old UTF-8:
    /// nil when the value is no string, false when `write` declines (and nothing changes).
    public mutating func rewriteString(at index: Int, _ write: (_ old: UnsafeRawBufferPointer, _ out: inout [UInt8]) -> Bool) -> Bool? {
        let old = entries[index].value
        // Room for the longest header a 32-bit length needs, written once the length is known.
        let start = owned.count
        let wrote: Bool
        if old.start >= 0 {
            // In the message's buffer, which outlives the list: read where it lies.
            guard let text = withBytes(old, { Self.stringMember($0) }) else { return nil }
            appendReservedHeader()
            wrote = write(text, &owned)
        } else {
            // In `owned`, which `write` appends to: copied out first.
            guard let text = withBytes(old, { Self.stringMember($0).map { Array($0) } }) else { return nil }
            appendReservedHeader()
            wrote = text.withUnsafeBytes { write($0, &owned) }
        }
        guard wrote else {
            owned.removeSubrange(start...)
            return false
        }
        // The tag and length end where the text begins; the reserved bytes before them stay
        // unused (the list's buffer is scratch, emptied for the next item), so nothing moves.
        let textStart = start + Self.reservedHeaderSize
        let length = UInt64(owned.count - textStart)
        let lengthSize = WireWriter.varintSize(length)
        let headerStart = textStart - lengthSize - 1
        owned.withUnsafeMutableBufferPointer { bytes in
            bytes[headerStart] = 1 << 3 | 2
            var rest = length
            for at in (headerStart + 1)..<textStart {
                bytes[at] = UInt8(truncatingIfNeeded: rest) | (at < textStart - 1 ? 0x80 : 0)
                rest >>= 7
            }
        }
        replaceValue(at: index, Bytes(start: ~Int32(headerStart), count: Int32(owned.count - headerStart)))
        return true
    }

    private static let reservedHeaderSize = 6

    private mutating func appendReservedHeader() {
        withUnsafeBytes(of: (UInt8(0x0A), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0))) {
            owned.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self))
        }
    }

    public mutating func setValue(at index: Int, encodedValue: [UInt8]) {
        replaceValue(at: index, own(encodedValue))
    }

    private mutating func replaceValue(at index: Int, _ value: Bytes) {
        isChanged = true
        entries[index].value = value
        entries[index].originalStart = -1
    }

    /// Every entry replaced by `entries`, in order.
    public mutating func replaceAll(with entries: [KeyValue]) {
        isChanged = true
        self.entries.removeAll(keepingCapacity: true)
        for entry in entries {
            let key = own(entry.key.utf8)
            self.entries.append(Entry(originalStart: -1, originalEnd: -1, key: key, value: own(entry.value.encodedBody)))
        }
    }

    public mutating func removeAll(whereKey remove: (UnsafeRawBufferPointer) -> Bool) {
        // Most calls remove nothing (a key the item does not have): then nothing is written.
        guard let first = entries.indices.first(where: { withKey(at: $0, remove) }) else { return }
        var next = first
        for index in (first + 1)..<entries.count where !withKey(at: index, remove) {
            entries[next] = entries[index]
            next += 1
        }
        entries.removeSubrange(next...)
        isChanged = true
    }

    /// The message's encoding with this list in place of its field: the message's other fields
    /// are copied in order, and the entries are written where the field first appeared (at the
    /// end when it did not).
    public func messageEncoding() -> [UInt8] {
        var out = WireWriter()
        out.bytes.reserveCapacity(messageSize())
        writeMessage(into: &out)
        return out.bytes
    }

    /// The item written with this list into a rewrite's item buffer (`WireRewrite.rewrite`), or
    /// `.keep` when nothing changed.
    public func decision(writingInto bodies: inout WireWriter) -> WireItemDecision {
        guard isChanged else { return .keep }
        let start = bodies.bytes.count
        writeMessage(into: &bodies)
        return .written(start..<bodies.bytes.count)
    }

    /// The size of `messageEncoding()`, computed without writing it.
    public func messageSize() -> Int {
        var size = message.range.count
        for occurrence in occurrences { size -= Int(occurrence.end - occurrence.start) }
        let tagSize = WireWriter.varintSize(UInt64(field) << 3 | 2)
        for entry in entries {
            let body = entry.original?.count ?? WireWriter.keyValueSize(withBytes(entry.key) { $0.count }, withBytes(entry.value) { $0.count })
            size += tagSize + WireWriter.varintSize(UInt64(body)) + body
        }
        return size
    }

    /// Appends `messageEncoding()` to `out`.
    public func writeMessage(into out: inout WireWriter) {
        // What lies between the field's occurrences (every other field, in order) is copied as
        // it is, each stretch in one append.
        var run = message.range.lowerBound
        for (index, occurrence) in occurrences.enumerated() {
            let start = Int(occurrence.start)
            if start > run { out.bytes.append(bytesOf: message.buffer[run..<start]) }
            // The entries go where the field first appeared.
            if index == 0 { writeEntries(&out) }
            run = Int(occurrence.end)
        }
        out.bytes.append(bytesOf: message.buffer[run..<message.range.upperBound])
        if occurrences.isEmpty { writeEntries(&out) }
    }

    private func writeEntries(_ out: inout WireWriter) {
        // Unchanged entries that lay next to each other are copied as one run of bytes; the run
        // grows while the gap to the next entry is exactly that entry's (shortest) tag and length.
        var run: Range<Int>?
        let tagSize = WireWriter.varintSize(UInt64(field) << 3 | 2)
        for entry in entries {
            if let original = entry.original {
                if let current = run, original.lowerBound - current.upperBound == tagSize + WireWriter.varintSize(UInt64(original.count)) {
                    run = current.lowerBound..<original.upperBound
                    continue
                }
                if let current = run { out.bytes.append(bytesOf: message.buffer[current]) }
                out.header(field: UInt64(field), size: original.count)
                run = original
                continue
            }
            if let current = run {
                out.bytes.append(bytesOf: message.buffer[current])
                run = nil
            }
            withBytes(entry.key) { key in withBytes(entry.value) { out.keyValue(field: field, key: key, value: $0) } }
        }
        if let current = run { out.bytes.append(bytesOf: message.buffer[current]) }
    }
}

extension WireWriter {
    @inlinable
    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var v = value
        while v >= 0x80 { v >>= 7; size += 1 }
        return size
    }

    /// A KeyValue's body size: the key (1) and the value (2), each length-delimited.
    @inlinable
    static func keyValueSize(_ keyLength: Int, _ valueLength: Int) -> Int {
        2 + varintSize(UInt64(keyLength)) + keyLength + varintSize(UInt64(valueLength)) + valueLength
    }

    /// A length-delimited field of body `part` written at `at`; returns where it ends.
    @inlinable @inline(__always)
    static func put(_ part: UnsafeRawBufferPointer, field: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        let at = put(UInt64(part.count), into: buffer, at: put(field << 3 | 2, into: buffer, at: start))
        if let from = part.baseAddress, let to = buffer.baseAddress {
            (to + at).update(from: from.assumingMemoryBound(to: UInt8.self), count: part.count)
        }
        return at + part.count
    }

    /// One entry of a repeated KeyValue `field`: its tag and length, the key and the AnyValue's
    /// encoding (`value`, its body).
    @inlinable
    public mutating func keyValue(field: Int, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let size = Self.keyValueSize(key.count, value.count)
        // The usual entry is written whole on the stack and appended once.
        guard size <= Self.smallEntryBody else {
            header(field: UInt64(field), size: size)
            lengthDelimited(field: 1, key)
            lengthDelimited(field: 2, value)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.smallEntryRoom) { buffer in
            var at = Self.put(UInt64(field) << 3 | 2, into: buffer, at: 0)
            at = Self.put(UInt64(size), into: buffer, at: at)
            at = Self.put(key, field: 1, into: buffer, at: at)
            at = Self.put(value, field: 2, into: buffer, at: at)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<at]))
        }
    }
}

extension WireWriter {
    /// The largest entry body written whole on the stack, and the room that takes with the
    /// entry's tag and length: what `put(keyValue:…)` may write. Computed, so that they fold to
    /// constants where inlined (the stack allocation's size among them).
    @inlinable static var smallEntryBody: Int { 240 }
    @inlinable public static var smallEntryRoom: Int { 256 }

    /// One entry of a repeated KeyValue `field` whose value is a string, boolean, integer or
    /// double, written whole on the stack and appended once, without the value's encoding being
    /// made apart; false (nothing written) for any other value or an entry of over 240 bytes.
    /// The encoding is swift-protobuf's (a oneof member is written even when it is zero).
    public mutating func keyValue(field: Int, key: UnsafeRawBufferPointer, scalar: AnyValue.OneOf_Value) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.smallEntryRoom) { buffer in
            guard let end = Self.put(keyValue: field, key: key, scalar: scalar, into: buffer, at: 0) else { return false }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<end]))
            return true
        }
    }

    /// `keyValue(field:key:scalar:)` written at `at` of `buffer`, which has `smallEntryRoom` bytes
    /// there; returns where the entry ends, nil (nothing written) when `keyValue` returns false.
    public static func put(keyValue field: Int, key: UnsafeRawBufferPointer, scalar: AnyValue.OneOf_Value,
                           into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int? {
        switch scalar {
        case .stringValue(let text):
            var text = text
            return text.withUTF8 { utf8 in
                let body = 1 + varintSize(UInt64(utf8.count)) + utf8.count
                return put(keyValue: field, key: key, valueSize: body, into: buffer, at: start) { buffer, at in
                    put(UnsafeRawBufferPointer(utf8), field: 1, into: buffer, at: at)
                }
            }
        case .boolValue(let flag):
            return put(keyValue: field, key: key, valueSize: 2, into: buffer, at: start) { buffer, at in
                put(flag ? 1 : 0, into: buffer, at: put(2 << 3, into: buffer, at: at))
            }
        case .intValue(let number):
            let bits = UInt64(bitPattern: number)
            return put(keyValue: field, key: key, valueSize: 1 + varintSize(bits), into: buffer, at: start) { buffer, at in
                put(bits, into: buffer, at: put(3 << 3, into: buffer, at: at))
            }
        case .doubleValue(let number):
            return put(keyValue: field, key: key, valueSize: 9, into: buffer, at: start) { buffer, at in
                buffer[at] = 4 << 3 | 1
                withUnsafeBytes(of: number.bitPattern.littleEndian) { bytes in
                    for index in 0..<8 { buffer[at + 1 + index] = bytes[index] }
                }
                return at + 9
            }
        default:
            return nil
        }
    }

    /// One entry whose value is the string of `bytes` in lowercase hex, written at `at` of `buffer`
    /// as `put(keyValue:key:scalar:)` writes a string; nil (nothing written) for an entry of over
    /// 240 bytes.
    public static func put(keyValue field: Int, key: UnsafeRawBufferPointer, hexOf bytes: UnsafeRawBufferPointer,
                           into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int? {
        let digits = bytes.count * 2
        return put(keyValue: field, key: key, valueSize: 1 + varintSize(UInt64(digits)) + digits, into: buffer, at: start) { buffer, at in
            let start = put(UInt64(digits), into: buffer, at: put(1 << 3 | 2, into: buffer, at: at))
            writeHex(bytes, into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[start..<start + digits]))
            return start + digits
        }
    }

    private static func put(keyValue field: Int, key: UnsafeRawBufferPointer, valueSize: Int,
                            into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int,
                            value: (UnsafeMutableBufferPointer<UInt8>, Int) -> Int) -> Int? {
        let size = keyValueSize(key.count, valueSize)
        guard size <= smallEntryBody else { return nil }
        var at = put(UInt64(field) << 3 | 2, into: buffer, at: start)
        at = put(UInt64(size), into: buffer, at: at)
        at = put(key, field: 1, into: buffer, at: at)
        at = put(UInt64(2 << 3 | 2), into: buffer, at: at)
        at = put(UInt64(valueSize), into: buffer, at: at)
        return value(buffer, at)
    }
}

extension AnyValue {
    /// The value's encoding, for `WireAttributeList.set`.
    /// Scalars are written here (`encoded(string:)` and the others); `set` writes them for
    /// every item it changes.
    public var encodedBody: [UInt8] {
        guard unknownFields.data.isEmpty else { return (try? serializedBytes()) ?? [] }
        switch value {
        case .stringValue(let text)?: return Self.encoded(string: text)
        case .boolValue(let flag)?: return Self.encoded(bool: flag)
        case .intValue(let number)?: return Self.encoded(int: number)
        case .doubleValue(let number)?: return Self.encoded(double: number)
        default: return (try? serializedBytes()) ?? []
        }
    }

    // The encodings of AnyValues of one scalar, as swift-protobuf writes them (a oneof member is
    // written even when it is zero).
    public static func encoded(string text: String) -> [UInt8] {
        var out = WireWriter()
        out.lengthDelimited(field: 1, text.utf8)
        return out.bytes
    }

    public static func encoded(bool flag: Bool) -> [UInt8] { [0x10, flag ? 1 : 0] }

    public static func encoded(int number: Int64) -> [UInt8] {
        var out = WireWriter()
        out.bytes = [0x18]
        out.varint(UInt64(bitPattern: number))
        return out.bytes
    }

    public static func encoded(double number: Double) -> [UInt8] {
        withUnsafeBytes(of: number.bitPattern.littleEndian) { [0x21] + $0 }
    }
}
