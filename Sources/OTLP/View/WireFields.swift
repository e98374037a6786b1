import SwiftProtobuf
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One encoded message with its fields indexed in a single pass, so that reading a field is a
/// jump to where it lies instead of a walk over the message.
///
/// For each field number below `WireFields.indexed` the index keeps where its last occurrence
/// starts (its tag): that is the value of a singular scalar field, as protobuf decoders take it,
/// and where a walk over a repeated field can stop. Field numbers above are walked to and read as
/// unknown fields; OTLP defines none that processors read. Only the last occurrence is kept so
/// that the value stays small: processors copy it into every context they make.
///
/// A singular sub-message that appears more than once is merged by protobuf decoders; reading the
/// last occurrence would not give the decoded value. `isIrregular` tells callers so, and they take
/// the decoded path for the batch.
///
/// Invariant: `buffer` outlives the value (it is created inside `withUnsafeBytes`, like
/// `WireReader`), and the bytes were validated against the OTLP schema by `WireScan`.
public struct WireFields {
    public static let indexed = 20

    public let buffer: UnsafeRawBufferPointer
    public let range: Range<Int>
    @usableFromInline var last: InlineArray<20, Int32>
    /// Where the first occurrence of `firstField` starts, for walks over that repeated field
    /// (attribute lookups) to begin there instead of at the message's start; -1 when unknown.
    @usableFromInline var firstAt: Int32 = -1
    @usableFromInline var firstField: UInt8 = 0
    public private(set) var isIrregular = false

    /// Indexes the message in `range`. `singularMessages` has bit n set for each field number n
    /// that holds a singular sub-message in this message type; where `firstOf`'s first occurrence
    /// lies is kept too (a repeated field walked often: an item's attributes).
    public init(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, singularMessages: UInt32 = 0,
                firstOf firstField: Int = 0) throws(OTLPDecodingError) {
        self.buffer = buffer
        self.range = range
        var last = InlineArray<20, Int32>(repeating: -1)
        // Offsets are kept in 32 bits; a larger buffer is read by the decoded path.
        guard range.upperBound <= Int(Int32.max) else {
            self.last = last
            isIrregular = true
            return
        }
        var seen: UInt32 = 0
        var repeated: UInt32 = 0
        var firstAt: Int32 = -1
        var reader = WireReader(buffer, range: range)
        while !reader.isAtEnd {
            let at = Int32(truncatingIfNeeded: reader.offset)
            let field: UInt64
            if let usual = reader.skipUsualField() {
                field = usual
            } else if let small = reader.skipOneByteVarint() {
                // Kept out of `skipUsualField`, which the walks over attribute entries inline:
                // there the extra test cost more than it saved.
                field = small
            } else {
                let (number, wireType) = try reader.tag()
                try reader.skip(wireType)
                field = number
            }
            guard field < Self.indexed else { continue }
            let bit = UInt32(1) << UInt32(truncatingIfNeeded: field)
            if firstAt < 0, field == firstField { firstAt = at }
            repeated |= seen & bit
            seen |= bit
            last[unchecked: Int(truncatingIfNeeded: field)] = at
        }
        self.last = last
        if firstAt >= 0 {
            self.firstAt = firstAt
            self.firstField = UInt8(truncatingIfNeeded: firstField)
        }
        isIrregular = repeated & singularMessages != 0
    }

    private init() {
        self.init(unindexed: UnsafeRawBufferPointer(start: nil, count: 0), 0..<0)
    }

    /// The message in `range` without its index: every field reads as absent. For callers that
    /// walk the message themselves and need only where it lies.
    public init(unindexed buffer: UnsafeRawBufferPointer, _ range: Range<Int>) {
        self.buffer = buffer
        self.range = range
        last = InlineArray(repeating: -1)
    }

    /// A message of no fields in no buffer: a placeholder for a value reset before it is read.
    public static var empty: WireFields { WireFields() }

    // The accessors are inlinable: conditions call them for every item from another module.
    @inlinable
    public func has(_ field: Int) -> Bool { last[field] >= 0 }

    /// Offset of the tag of the field's last occurrence, or nil.
    @inlinable
    public func lastTag(_ field: Int) -> Int? { last[field] >= 0 ? Int(last[field]) : nil }

    /// A reader positioned after the tag of the field's last occurrence.
    @inlinable
    func valueReader(_ field: Int) -> (reader: WireReader, wireType: WireType)? {
        guard last[field] >= 0 else { return nil }
        var reader = WireReader(buffer, range: Int(last[field])..<range.upperBound)
        guard let (_, wireType) = try? reader.tag() else { return nil }
        return (reader, wireType)
    }

    /// An integer field of any scalar wire type (varint, fixed32, fixed64); 0 when absent.
    @inlinable
    public func uint(_ field: Int) -> UInt64 {
        // The usual shapes read directly: a one-byte tag with a one-byte varint or a fixed64.
        let at = Int(last[field])
        if at >= 0, field < 16, at + 9 <= range.upperBound {
            let tag = buffer[at]
            if tag == UInt8(truncatingIfNeeded: field << 3), buffer[at + 1] < 0x80 { return UInt64(buffer[at + 1]) }
            if tag == UInt8(truncatingIfNeeded: field << 3 | 1) {
                return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: at + 1, as: UInt64.self))
            }
        }
        guard let found = valueReader(field) else { return 0 }
        var reader = found.reader
        switch found.wireType {
        case .varint: return (try? reader.varint()) ?? 0
        case .fixed64: return (try? reader.fixed64()) ?? 0
        case .fixed32:
            let at = reader.offset
            guard (try? reader.advance(4)) != nil else { return 0 }
            return UInt64(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        default: return 0
        }
    }

    /// The range of a length-delimited field's value; empty (at the message's end) when absent.
    @inlinable
    public func bytesRange(_ field: Int) -> Range<Int> {
        // The usual shape read directly: a one-byte tag and a one-byte length.
        let at = Int(last[field])
        if at >= 0, field < 16, at + 2 <= range.upperBound, buffer[at] == UInt8(truncatingIfNeeded: field << 3 | 2), buffer[at + 1] < 0x80 {
            let end = at + 2 + Int(buffer[at + 1])
            if end <= range.upperBound { return (at + 2)..<end }
        }
        let absent = range.upperBound..<range.upperBound
        guard let found = valueReader(field), found.wireType == .lengthDelimited else { return absent }
        var reader = found.reader
        return (try? reader.lengthDelimited()) ?? absent
    }

    @inlinable
    public func bytes(_ field: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[bytesRange(field)]) }

    /// A string field's text; invalid UTF-8 reads with replacement characters.
    public func string(_ field: Int) -> String { String(decoding: bytes(field), as: UTF8.self) }

    /// The sub-message in the field (empty when absent), indexed.
    public func message(_ field: Int, singularMessages: UInt32 = 0) throws(OTLPDecodingError) -> WireFields {
        try WireFields(buffer, bytesRange(field), singularMessages: singularMessages)
    }

    /// Where a walk over the occurrences of `field` can begin: its first occurrence when the index
    /// kept it, else the message's start.
    @inlinable
    public func walkStart(_ field: Int) -> Int {
        firstAt >= 0 && Int(firstField) == field ? Int(firstAt) : range.lowerBound
    }

    /// Calls `body` with the value range of each occurrence of a length-delimited field, in order,
    /// until it returns false.
    public func forEach<E: Error>(_ field: Int, _ body: (Range<Int>) throws(E) -> Bool) throws(E) {
        try forEachOccurrence(field) { (_, value) throws(E) in try body(value) }
    }

    /// `forEach` with where each occurrence starts (its tag), for callers that need its whole size.
    public func forEachOccurrence<E: Error>(_ field: Int, _ body: (_ start: Int, _ value: Range<Int>) throws(E) -> Bool) throws(E) {
        guard last[field] >= 0 else { return }
        var reader = WireReader(buffer, range: walkStart(field)..<range.upperBound)
        let end = Int(last[field])
        while reader.offset <= end, let (start, value) = try? reader.next(lengthDelimited: field) {
            if try !body(start, value) { return }
        }
    }
}

extension WireFields {
    /// Appends the message's encoding without the occurrences of `field` for which `drop` (called
    /// with their index among that field's occurrences, in order) returns true.
    public func write(dropping field: Int, into out: inout WireWriter, where drop: (Int) -> Bool) throws(OTLPDecodingError) {
        var reader = WireReader(buffer, range: range)
        var index = 0
        while !reader.isAtEnd {
            let start = reader.offset
            let (number, wireType) = try reader.tag()
            try reader.skip(wireType)
            if Int(number) == field {
                defer { index += 1 }
                if drop(index) { continue }
            }
            out.bytes.append(bytesOf: buffer[start..<reader.offset])
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether both hold the same bytes.
    @inlinable
    public func sameBytes(as other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        guard let base = baseAddress, let otherBase = other.baseAddress else { return true }
        return memcmp(base, otherBase, count) == 0
    }
}

extension WireFields {
    /// Of the field numbers `candidates` (the members of a oneof), the one present last, as
    /// decoders take it; nil when none is. Inlinable, so that it is specialized where it is
    /// called: unspecialized, iterating the range cost a generic-metadata lookup per element.
    @inlinable
    public func lastPresent(_ candidates: some Sequence<Int>) -> Int? {
        var member: Int?
        var at = -1
        for candidate in candidates { if let tag = lastTag(candidate), tag > at { member = candidate; at = tag } }
        return member
    }

    /// The body of the AnyValue of the first entry with `key` in the repeated KeyValue `field`
    /// (a key without a value holds an empty one), as the model's `[key]` lookup finds it.
    public func attribute(_ field: Int, _ key: String) -> Range<Int>? {
        var key = key
        return key.withUTF8 { attribute(field, utf8: UnsafeRawBufferPointer($0)) }
    }

    /// `attribute(_:_:)` with the key as UTF-8 bytes. One walk without a closure per entry:
    /// conditions look up attributes of every item.
    public func attribute(_ field: Int, utf8 key: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let end = lastTag(field) else { return nil }
        var at = walkStart(field)
        // Entries of the usual shape are stepped over in place, told apart by their key's length
        // byte: a one-byte tag and length, then the key and the value, each with a one-byte
        // length. The first entry of any other shape, and all after it, go through the reader.
        if field < 16, key.count < 0x80 {
            let tag = UInt8(truncatingIfNeeded: field << 3 | 2), limit = range.upperBound
            while at <= end, limit - at >= 6, buffer[at] == tag, buffer[at + 1] < 0x80, buffer[at + 2] == 0x0A, buffer[at + 3] < 0x80 {
                let entryEnd = at + 2 + Int(buffer[at + 1]), keyEnd = at + 4 + Int(buffer[at + 3])
                guard entryEnd <= limit, keyEnd + 2 <= entryEnd, buffer[keyEnd] == 0x12,
                      keyEnd + 2 + Int(buffer[keyEnd + 1]) == entryEnd, buffer[keyEnd + 1] < 0x80 else { break }
                if Int(buffer[at + 3]) == key.count, UnsafeRawBufferPointer(rebasing: buffer[(at + 4)..<keyEnd]).sameBytes(as: key) {
                    return (keyEnd + 2)..<entryEnd
                }
                at = entryEnd
            }
        }
        var reader = WireReader(buffer, range: at..<range.upperBound)
        while reader.offset <= end, let (_, entry) = try? reader.next(lengthDelimited: field) {
            let (keyRange, value) = Self.keyValue(buffer, entry)
            // A KeyValue without a key has the empty one, as decoded.
            let keyBytes = keyRange ?? 0..<0
            guard keyBytes.count == key.count, UnsafeRawBufferPointer(rebasing: buffer[keyBytes]).sameBytes(as: key) else { continue }
            return value ?? entry.upperBound..<entry.upperBound
        }
        return nil
    }

    /// The text of an AnyValue's encoding (`value`, in `buffer`) of the usual shape, a string and
    /// nothing else with a one-byte length; nil for any other shape, which may still hold a string.
    @inlinable
    public static func stringAlone(_ buffer: UnsafeRawBufferPointer, _ value: Range<Int>) -> Range<Int>? {
        let at = value.lowerBound
        guard value.count >= 2, buffer[at] == 0x0A, buffer[at + 1] < 0x80, Int(buffer[at + 1]) + 2 == value.count else { return nil }
        return (at + 2)..<value.upperBound
    }

    /// The key (field 1) and value (field 2) of the encoded KeyValue in `entry`, the last of each;
    /// nil where absent. Entries are almost always written as the key then the value, each once
    /// with a one-byte length: that shape is read directly, anything else field by field.
    @inlinable @inline(__always)
    public static func keyValue(_ buffer: UnsafeRawBufferPointer, _ entry: Range<Int>) -> (key: Range<Int>?, value: Range<Int>?) {
        let end = entry.upperBound
        let at = entry.lowerBound
        if end - at >= 4, buffer[at] == 0x0A, buffer[at + 1] < 0x80 {
            let key = (at + 2)..<(at + 2 + Int(buffer[at + 1]))
            let next = key.upperBound
            if end - next >= 2, buffer[next] == 0x12, buffer[next + 1] < 0x80, next + 2 + Int(buffer[next + 1]) == end {
                return (key, (next + 2)..<end)
            }
        }
        return keyValueFieldByField(buffer, entry)
    }

    @usableFromInline @inline(never)
    static func keyValueFieldByField(_ buffer: UnsafeRawBufferPointer, _ entry: Range<Int>) -> (key: Range<Int>?, value: Range<Int>?) {
        var reader = WireReader(buffer, range: entry)
        var key: Range<Int>?, value: Range<Int>?
        while !reader.isAtEnd {
            guard let (number, wireType) = try? reader.tag() else { break }
            if wireType == .lengthDelimited, number == 1 || number == 2, let range = try? reader.lengthDelimited() {
                if number == 1 { key = range } else { value = range }
            } else if (try? reader.skip(wireType)) == nil {
                break
            }
        }
        return (key, value)
    }
}

/// Model messages that can be decoded from a range of a borrowed buffer (one attribute value or
/// entry, where a path needs the model).
public protocol WireDecodable {
    init(decoding buffer: UnsafeRawBufferPointer, _ range: Range<Int>) throws
}

extension WireDecodable where Self: SwiftProtobuf.Message {
    public init(decoding buffer: UnsafeRawBufferPointer, _ range: Range<Int>) throws {
        try self.init(serializedBytes: Array(buffer[range]))
    }
}

extension AnyValue: WireDecodable {}
extension KeyValue: WireDecodable {}
