/// Validates an encoded OTLP export request and counts its items without decoding it.
///
/// The walk follows the OTLP schema: every known field must have its declared wire type, every
/// length must stay inside its parent, and unknown fields are skipped as protobuf allows. Strings
/// are not checked for UTF-8. No memory is allocated; this is the receivers' hot path.
public enum WireScan {
    /// Protobuf's own default recursion limit; AnyValue can nest without bound otherwise.
    static let maxDepth = 100

    /// Returns the number of spans, data points or log records in `bytes`.
    public static func itemCount(
        _ signal: Signal, in bytes: UnsafeRawBufferPointer
    ) throws(OTLPDecodingError) -> Int {
        var count = 0
        var reader = WireReader(bytes)
        try walk(.request(for: signal), &reader, depth: 0, count: &count)
        return count
    }

    public static func itemCount(_ signal: Signal, in bytes: [UInt8]) throws(OTLPDecodingError) -> Int {
        do {
            return try bytes.withUnsafeBytes { buffer in try itemCount(signal, in: buffer) }
        } catch let error as OTLPDecodingError {
            throw error
        } catch {
            throw OTLPDecodingError("\(error)")
        }
    }

    /// Counts items in already validated bytes, entering only the containers on the way to them.
    static func count(_ message: WireMessage, _ reader: inout WireReader) throws(OTLPDecodingError) -> Int {
        var total = 0
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            guard case .message(let child)? = message.field(field), wireType == .lengthDelimited else {
                try reader.skip(wireType)
                continue
            }
            let range = try reader.lengthDelimited()
            if child.isItem {
                total += 1
            } else if child.leadsToItems {
                var inner = WireReader(reader.bytes, range: range)
                total += try count(child, &inner)
            }
        }
        return total
    }

    static func walk(
        _ message: WireMessage, _ reader: inout WireReader, depth: Int, count: inout Int
    ) throws(OTLPDecodingError) {
        guard let base = reader.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        try WireFieldCodes.table.withUnsafeBufferPointer { codes throws(OTLPDecodingError) in
            try WireFieldCodes.items.withUnsafeBufferPointer { items throws(OTLPDecodingError) in
                let scan = FastScan(base: base, bytes: reader.bytes, codes: codes, items: items)
                try scan.walk(message.rawValue, from: reader.offset, to: reader.end, depth: depth, count: &count)
            }
        }
        reader.offset = reader.end
    }

    /// The validating walk over raw memory. Fields are looked up in `WireFieldCodes.table`; a
    /// one-byte tag and a one-byte length, nearly every field of OTLP, take the straight path,
    /// and everything else goes through `WireReader`, which also words every error.
    private struct FastScan {
        let base: UnsafePointer<UInt8>
        let bytes: UnsafeRawBufferPointer
        let codes: UnsafeBufferPointer<UInt8>
        let items: UnsafeBufferPointer<Bool>

        func walk(_ message: UInt8, from start: Int, to end: Int, depth: Int, count: inout Int) throws(OTLPDecodingError) {
            guard depth < WireScan.maxDepth else {
                throw OTLPDecodingError("invalid protobuf: messages nested deeper than \(WireScan.maxDepth) levels")
            }
            let row = Int(message) &* WireFieldCodes.fieldsPerMessage
            var offset = start
            while offset < end {
                let key = base[offset]
                guard key < 0x80, key >= 8, key & 7 < 6 else {
                    offset = try slowField(message, at: offset, end: end, depth: depth, count: &count)
                    continue
                }
                let wireType = key & 7
                let code = codes[row &+ Int(key >> 3)]
                if code == WireFieldCodes.bytes || code & WireFieldCodes.message != 0 {
                    // Length-delimited: the tag's wire type must be 2, the length (one or two
                    // bytes here; spans are often longer than 127 bytes) inside `end`.
                    guard wireType == 2, offset &+ 2 < end else {
                        offset = try slowField(message, at: offset, end: end, depth: depth, count: &count)
                        continue
                    }
                    let first = base[offset &+ 1], second = base[offset &+ 2]
                    let bodyStart: Int, length: Int
                    if first < 0x80 {
                        (bodyStart, length) = (offset &+ 2, Int(first))
                    } else if second < 0x80 {
                        (bodyStart, length) = (offset &+ 3, Int(first & 0x7F) | Int(second) << 7)
                    } else {
                        offset = try slowField(message, at: offset, end: end, depth: depth, count: &count)
                        continue
                    }
                    let bodyEnd = bodyStart &+ length
                    guard bodyEnd <= end else {
                        offset = try slowField(message, at: offset, end: end, depth: depth, count: &count)
                        continue
                    }
                    if code != WireFieldCodes.bytes {
                        let child = code & ~WireFieldCodes.message
                        if child == WireMessage.keyValue.rawValue {
                            try keyValue(from: bodyStart, to: bodyEnd, depth: depth &+ 1, count: &count)
                        } else {
                            if items[Int(child)] { count &+= 1 }
                            try walk(child, from: bodyStart, to: bodyEnd, depth: depth &+ 1, count: &count)
                        }
                    }
                    offset = bodyEnd
                } else if code == WireFieldCodes.fixed64, wireType == 1, end &- offset > 8 {
                    offset &+= 9
                } else if code == WireFieldCodes.varint, wireType == 0, offset &+ 1 < end, base[offset &+ 1] < 0x80 {
                    offset &+= 2
                } else {
                    offset = try slowField(message, at: offset, end: end, depth: depth, count: &count)
                }
            }
        }

        /// A KeyValue, most fields of OTLP by count, without a call per nested message: its key and
        /// a scalar value are checked in place; anything else goes through `slowField`.
        @inline(__always)
        func keyValue(from start: Int, to end: Int, depth: Int, count: inout Int) throws(OTLPDecodingError) {
            let keyValue = WireMessage.keyValue.rawValue
            var offset = start
            while offset < end {
                let tag = base[offset]
                if tag == 0x0A || tag == 0x12, offset &+ 1 < end, base[offset &+ 1] < 0x80 {
                    let bodyStart = offset &+ 2
                    let bodyEnd = bodyStart &+ Int(base[offset &+ 1])
                    if bodyEnd <= end {
                        if tag == 0x12 { try anyValue(from: bodyStart, to: bodyEnd, depth: depth &+ 1, count: &count) }
                        offset = bodyEnd
                        continue
                    }
                }
                offset = try slowField(keyValue, at: offset, end: end, depth: depth, count: &count)
            }
        }

        /// An AnyValue: strings, bytes and one-byte varints in place, doubles by size.
        @inline(__always)
        func anyValue(from start: Int, to end: Int, depth: Int, count: inout Int) throws(OTLPDecodingError) {
            let anyValue = WireMessage.anyValue.rawValue
            var offset = start
            while offset < end {
                switch base[offset] {
                case 0x0A, 0x3A: // string_value, bytes_value
                    if offset &+ 1 < end, base[offset &+ 1] < 0x80, offset &+ 2 &+ Int(base[offset &+ 1]) <= end {
                        offset = offset &+ 2 &+ Int(base[offset &+ 1])
                        continue
                    }
                case 0x10, 0x18: // bool_value, int_value
                    if offset &+ 1 < end, base[offset &+ 1] < 0x80 {
                        offset &+= 2
                        continue
                    }
                case 0x21: // double_value
                    if end &- offset > 8 {
                        offset &+= 9
                        continue
                    }
                default:
                    break
                }
                offset = try slowField(anyValue, at: offset, end: end, depth: depth, count: &count)
            }
        }

        /// One field through `WireReader` and the schema: long tags and lengths, unknown
        /// fields, packed values, and every malformed case. Returns the offset after the field.
        func slowField(_ raw: UInt8, at offset: Int, end: Int, depth: Int, count: inout Int) throws(OTLPDecodingError) -> Int {
            guard let message = WireMessage(rawValue: raw) else { return end }
            var reader = WireReader(bytes, range: offset..<end)
            let (field, wireType) = try reader.tag()
            guard let kind = message.field(field) else {
                try reader.skip(wireType)
                return reader.offset
            }
            switch kind {
            case .message(let child):
                try WireScan.expect(wireType, .lengthDelimited, field, message)
                let range = try reader.lengthDelimited()
                if child.isItem { count &+= 1 }
                try walk(child.rawValue, from: range.lowerBound, to: range.upperBound, depth: depth &+ 1, count: &count)
            case .bytes:
                try WireScan.expect(wireType, .lengthDelimited, field, message)
                _ = try reader.lengthDelimited()
            case .scalar(let expected):
                try WireScan.expect(wireType, expected, field, message)
                try reader.skip(wireType)
            case .packable(let element):
                if wireType != .lengthDelimited { try WireScan.expect(wireType, element, field, message) }
                try reader.skip(wireType)
            }
            return reader.offset
        }
    }

    static func expect(
        _ actual: WireType, _ expected: WireType, _ field: UInt64, _ message: WireMessage
    ) throws(OTLPDecodingError) {
        guard actual == expected else {
            throw OTLPDecodingError(
                "invalid protobuf: field \(field) of \(message.name) has wire type \(actual.name), expected \(expected.name)")
        }
    }
}
