/// A cursor over protobuf wire-format bytes in borrowed memory.
///
/// Invariant: `bytes` stays valid for the reader's whole life (callers create readers inside
/// `withUnsafeBytes`); every read checks bounds against `end`, so malformed input throws instead
/// of reading past its message. Public for exporters that write their output straight from the
/// encoded request.
public struct WireReader {
    public let bytes: UnsafeRawBufferPointer
    public var offset: Int
    public let end: Int

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        self.bytes = bytes
        self.offset = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
    }

    @inlinable
    public var isAtEnd: Bool { offset >= end }

    @inlinable @inline(__always)
    public mutating func varint() throws(OTLPDecodingError) -> UInt64 {
        // Most varints here (tags, small lengths, enums) are one byte.
        if offset < end, bytes[offset] < 0x80 {
            defer { offset += 1 }
            return UInt64(bytes[offset])
        }
        return try longVarint()
    }

    @usableFromInline
    mutating func longVarint() throws(OTLPDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end {
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw OTLPDecodingError("invalid protobuf: varint longer than 10 bytes at offset \(offset)") }
        }
        throw OTLPDecodingError("invalid protobuf: truncated varint at offset \(offset)")
    }

    /// Reads a field tag. Field number 0 and wire types 6 and 7 do not exist in protobuf.
    @inlinable @inline(__always)
    public mutating func tag() throws(OTLPDecodingError) -> (field: UInt64, wireType: WireType) {
        let at = offset
        let key = try varint()
        let field = key >> 3
        guard field != 0, let wireType = WireType(rawValue: UInt8(key & 7)) else { throw badTagError(key, at: at) }
        return (field, wireType)
    }

    /// Reads a length prefix and returns the range of the bytes it announces, moving past them.
    @inlinable @inline(__always)
    public mutating func lengthDelimited() throws(OTLPDecodingError) -> Range<Int> {
        let at = offset
        let length = try varint()
        guard length <= UInt64(end - offset) else {
            throw OTLPDecodingError("invalid protobuf: length \(length) at offset \(at) runs past the end of its message")
        }
        let start = offset
        offset += Int(length)
        return start..<offset
    }

    // Inlined into every walk over fields; the errors are made out of line.
    @inlinable @inline(__always)
    public mutating func skip(_ wireType: WireType) throws(OTLPDecodingError) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: try advance(8)
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed32: try advance(4)
        case .startGroup, .endGroup: throw groupError()
        }
    }

    @inlinable @inline(__always)
    public mutating func advance(_ count: Int) throws(OTLPDecodingError) {
        guard end - offset >= count else { throw truncatedError() }
        offset += count
    }

    @usableFromInline @inline(never)
    func badTagError(_ key: UInt64, at: Int) -> OTLPDecodingError {
        OTLPDecodingError("invalid protobuf: bad field tag \(key) at offset \(at)")
    }

    @usableFromInline @inline(never)
    func groupError() -> OTLPDecodingError {
        OTLPDecodingError("invalid protobuf: group wire type at offset \(offset) is not used by OTLP")
    }

    @usableFromInline @inline(never)
    func truncatedError() -> OTLPDecodingError {
        OTLPDecodingError("invalid protobuf: truncated fixed-size field at offset \(offset)")
    }

    /// Steps over a field of the usual shapes (a one-byte tag with a one-byte length, or a 64-bit
    /// value: most fields of OTLP) by tests that branch predictably, where the switch on the wire
    /// type jumps indirectly and mispredicts as field shapes alternate. Returns the field number,
    /// or nil, having read nothing, for any other shape (and at the end); those go through `tag`
    /// and `skip`, which word every error.
    @inlinable @inline(__always)
    public mutating func skipUsualField() -> UInt64? {
        guard offset < end else { return nil }
        let tag = bytes[offset]
        guard tag >= 8, tag < 0x80 else { return nil }
        if tag & 7 == 2 {
            guard end - offset >= 2 else { return nil }
            let length = bytes[offset + 1]
            guard length < 0x80, end - offset - 2 >= Int(length) else { return nil }
            offset += 2 + Int(length)
            return UInt64(tag >> 3)
        }
        guard tag & 7 == 1, end - offset >= 9 else { return nil }
        offset += 9
        return UInt64(tag >> 3)
    }

    /// Steps over a varint field of one-byte tag and value (an enum, a flag, a small count: a
    /// span's kind) and returns its number; nil, having read nothing, for any other shape.
    @inlinable @inline(__always)
    public mutating func skipOneByteVarint() -> UInt64? {
        guard end - offset >= 2 else { return nil }
        let tag = bytes[offset]
        guard tag & 7 == 0, tag >= 8, tag < 0x80, bytes[offset + 1] < 0x80 else { return nil }
        offset += 2
        return UInt64(tag >> 3)
    }

    /// Moves past other fields to the next length-delimited occurrence of field `number`: where
    /// its tag starts and its value's range, or nil at the end. Every walk that looks for one
    /// repeated field (attributes, mostly) goes through here.
    @inlinable @inline(__always)
    public mutating func next(lengthDelimited number: Int) throws(OTLPDecodingError) -> (start: Int, value: Range<Int>)? {
        // The sought key compared whole, before it is taken apart: most fields met are it.
        let sought = UInt64(number) << 3 | 2
        while !isAtEnd {
            let start = offset
            if UInt64(bytes[offset]) != sought, skipUsualField() != nil { continue }
            let key = try varint()
            if key == sought { return (start, try lengthDelimited()) }
            guard key >> 3 != 0, let wireType = WireType(rawValue: UInt8(key & 7)) else { throw badTagError(key, at: start) }
            try skip(wireType)
        }
        return nil
    }

    /// A little-endian 64-bit field (fixed64, sfixed64, double).
    @inlinable
    public mutating func fixed64() throws(OTLPDecodingError) -> UInt64 {
        let at = offset
        try advance(8)
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }
}

public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5

    var name: String {
        switch self {
        case .varint: "varint"
        case .fixed64: "64-bit"
        case .lengthDelimited: "length-delimited"
        case .startGroup: "start-group"
        case .endGroup: "end-group"
        case .fixed32: "32-bit"
        }
    }
}

/// Appends protobuf wire format; used to build messages from pieces of other messages.
public struct WireWriter {
    public var bytes: [UInt8] = []

    public init() {}

    @inlinable
    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func lengthDelimited(field: UInt64, _ body: some Collection<UInt8>) {
        varints(field << 3 | 2, UInt64(body.count))
        bytes.append(contentsOf: body)
    }

    /// `lengthDelimited` with a body in raw memory, copied at once.
    @inlinable
    public mutating func lengthDelimited(field: UInt64, _ body: UnsafeRawBufferPointer) {
        varints(field << 3 | 2, UInt64(body.count))
        bytes.append(contentsOf: body.assumingMemoryBound(to: UInt8.self))
    }

    /// Two varints (a tag and a length) in one append: each append of a byte checks that the
    /// storage is not shared, a call into the runtime, and writers add headers to every item.
    @inlinable
    public mutating func varints(_ first: UInt64, _ second: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            let end = Self.put(second, into: buffer, at: Self.put(first, into: buffer, at: 0))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<end]))
        }
    }

    /// Writes `value` as a varint at `at`; returns where it ends. `buffer` has room for it.
    @inlinable @inline(__always)
    static func put(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var v = value, at = start
        while v >= 0x80 {
            buffer[at] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            at += 1
        }
        buffer[at] = UInt8(v)
        return at + 1
    }

    /// `lengthDelimited` with a body that lies in a slice of a raw buffer, copied at once.
    @inlinable
    public mutating func lengthDelimited(field: UInt64, _ body: Slice<UnsafeRawBufferPointer>) {
        lengthDelimited(field: field, UnsafeRawBufferPointer(rebasing: body))
    }
}

extension Array where Element == UInt8 {
    /// Appends the bytes of a slice of a raw buffer with one copy; appended as a `Slice`, they
    /// would go through its iterator one byte at a time.
    @inlinable
    public mutating func append(bytesOf slice: Slice<UnsafeRawBufferPointer>) {
        append(contentsOf: UnsafeRawBufferPointer(rebasing: slice).assumingMemoryBound(to: UInt8.self))
    }
}
