import OTLP

/// Attributes as bytes that are equal exactly when the attributes are (in the same order): the
/// key of a series in the aggregation, and the only copy of its attributes the aggregation
/// keeps; they are decoded again when the window is exported.
///
/// Each entry is its key and a typed value, lengths written before the bytes they count, so that
/// no byte of a (possibly invalid) string can be read as a boundary. A decoded attribute and the
/// same attribute read from encoded bytes give the same key, whatever the encoder's field order.
/// The hash is taken once, over all the bytes: an array of bytes hashes element by element, and
/// the aggregation looks a key up several times. It is a multiply-and-fold hash over eight bytes
/// at a time under a seed drawn when the process starts (SipHash over the bytes was a sixth of
/// the connector's time). Keys chosen to collide would have to be chosen knowing the seed; the
/// windows' dictionaries hash it again with their own seeded hasher, and a batch's table
/// (`BatchAggregate`) takes it as it is.
struct SeriesKey: Hashable {
    let bytes: [UInt8]
    /// The seeded hash of the bytes, for tables that take it as it is.
    let hash: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        hash = bytes.withUnsafeBytes { Self.hash($0) }
    }

    /// A key of bytes whose hash (`hash(_:)`) was taken already.
    init(_ bytes: [UInt8], hash: Int) {
        self.bytes = bytes
        self.hash = hash
    }

    private static let seed = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        return high ^ low
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        let (first, second) = seed
        var state = mix(first ^ UInt64(bytes.count), second)
        var at = 0
        while at + 16 <= bytes.count {
            state = mix(bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self) ^ first,
                        bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self) ^ state)
            at += 16
        }
        var last: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &last) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[at...])) }
        state = mix(last.0 ^ first, last.1 ^ state)
        return Int(truncatingIfNeeded: mix(state ^ second, first))
    }

    init(_ values: [KeyValue]) {
        var out: [UInt8] = []
        for value in values { Self.append(value, to: &out) }
        self.init(out)
    }

    // Compared as memory: an array of bytes compares element by element.
    static func == (a: SeriesKey, b: SeriesKey) -> Bool {
        a.hash == b.hash && a.bytes.withUnsafeBytes { x in b.bytes.withUnsafeBytes { x.sameBytes(as: $0) } }
    }
    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    /// This key with another key's entries after its own.
    func adding(_ other: SeriesKey) -> SeriesKey { SeriesKey(bytes + other.bytes) }

    private enum Tag: UInt8 {
        case string = 1, isTrue, isFalse, int, double, other
    }

    static func append(_ entry: KeyValue, to out: inout [UInt8]) {
        var key = entry.key
        key.withUTF8 { appendCounted(UnsafeRawBufferPointer($0), to: &out) }
        switch entry.value.value {
        case .stringValue(var text)?:
            out.append(Tag.string.rawValue)
            text.withUTF8 { appendCounted(UnsafeRawBufferPointer($0), to: &out) }
        case .boolValue(let flag)?: out.append(flag ? Tag.isTrue.rawValue : Tag.isFalse.rawValue)
        case .intValue(let number)?: appendFixed(Tag.int, UInt64(bitPattern: number), to: &out)
        case .doubleValue(let number)?: appendFixed(Tag.double, number.bitPattern, to: &out)
        default: appendOther(entry.value, to: &out)
        }
    }

    /// An encoded entry: its key's bytes and its AnyValue read where they lie.
    static func append(key: UnsafeRawBufferPointer, value: WireAnyValue, to out: inout [UInt8]) {
        if value.member == 1 { return append(key: key, string: UnsafeRawBufferPointer(rebasing: value.buffer[value.body]), to: &out) }
        appendCounted(key, to: &out)
        switch value.member {
        case 2: out.append(value.number != 0 ? Tag.isTrue.rawValue : Tag.isFalse.rawValue)
        case 3: appendFixed(Tag.int, value.number, to: &out)
        case 4: appendFixed(Tag.double, value.number, to: &out)
        default: appendOther((try? AnyValue(decoding: value.buffer, value.range)) ?? AnyValue(), to: &out)
        }
    }

    /// An entry of a string value, both as bytes. The usual entry is written whole on the stack
    /// and appended once: each of its five parts appended apart cost a check of the array's
    /// storage and capacity, which made appending a tenth of the connector.
    static func append(key: UnsafeRawBufferPointer, string: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let size = 9 + key.count + string.count
        guard size <= 256 else {
            appendCounted(key, to: &out)
            out.append(Tag.string.rawValue)
            appendCounted(string, to: &out)
            return
        }
        withUnsafeTemporaryAllocation(byteCount: 256, alignment: 8) { entry in
            entry.storeBytes(of: UInt32(truncatingIfNeeded: key.count).littleEndian, toByteOffset: 0, as: UInt32.self)
            UnsafeMutableRawBufferPointer(rebasing: entry[4..<(4 + key.count)]).copyMemory(from: key)
            entry[4 + key.count] = Tag.string.rawValue
            entry.storeBytes(of: UInt32(truncatingIfNeeded: string.count).littleEndian, toByteOffset: 5 + key.count, as: UInt32.self)
            UnsafeMutableRawBufferPointer(rebasing: entry[(9 + key.count)..<size]).copyMemory(from: string)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: entry[..<size]))
        }
    }

    /// Arrays, maps, bytes and empty values, as their protobuf encoding.
    private static func appendOther(_ value: AnyValue, to out: inout [UInt8]) {
        out.append(Tag.other.rawValue)
        let bytes = (try? value.serializedBytes() as [UInt8]) ?? []
        bytes.withUnsafeBytes { appendCounted($0, to: &out) }
    }

    private static func appendCounted(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: bytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: bytes)
    }

    private static func appendFixed(_ tag: Tag, _ bits: UInt64, to out: inout [UInt8]) {
        out.append(tag.rawValue)
        withUnsafeBytes(of: bits.littleEndian) { out.append(contentsOf: $0) }
    }

    /// The attributes the key was made of.
    var attributes: [KeyValue] {
        bytes.withUnsafeBytes { buffer in
            var out: [KeyValue] = []
            var at = 0
            func fixed() -> UInt64? {
                guard at + 8 <= buffer.count else { return nil }
                defer { at += 8 }
                return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            }
            func counted() -> UnsafeRawBufferPointer? {
                guard at + 4 <= buffer.count else { return nil }
                let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                guard at + 4 + length <= buffer.count else { return nil }
                defer { at += 4 + length }
                return UnsafeRawBufferPointer(rebasing: buffer[(at + 4)..<(at + 4 + length)])
            }
            while at < buffer.count {
                guard let key = counted(), at < buffer.count, let tag = Tag(rawValue: buffer[at]) else { break }
                at += 1
                var entry = KeyValue()
                entry.key = String(decoding: key, as: UTF8.self)
                switch tag {
                case .string: entry.value.stringValue = String(decoding: counted() ?? UnsafeRawBufferPointer(start: nil, count: 0), as: UTF8.self)
                case .isTrue: entry.value.boolValue = true
                case .isFalse: entry.value.boolValue = false
                case .int: entry.value.intValue = Int64(bitPattern: fixed() ?? 0)
                case .double: entry.value.doubleValue = Double(bitPattern: fixed() ?? 0)
                case .other: entry.value = (try? AnyValue(serializedBytes: Array(counted() ?? UnsafeRawBufferPointer(start: nil, count: 0)))) ?? AnyValue()
                }
                out.append(entry)
            }
            return out
        }
    }
}
