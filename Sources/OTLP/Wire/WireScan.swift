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
        guard depth < maxDepth else {
            throw OTLPDecodingError("invalid protobuf: messages nested deeper than \(maxDepth) levels")
        }
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            guard let kind = message.field(field) else {
                try reader.skip(wireType)
                continue
            }
            switch kind {
            case .message(let child):
                try expect(wireType, .lengthDelimited, field, message)
                let range = try reader.lengthDelimited()
                if child.isItem { count += 1 }
                var inner = WireReader(reader.bytes, range: range)
                try walk(child, &inner, depth: depth + 1, count: &count)
            case .bytes:
                try expect(wireType, .lengthDelimited, field, message)
                _ = try reader.lengthDelimited()
            case .scalar(let expected):
                try expect(wireType, expected, field, message)
                try reader.skip(wireType)
            case .packable(let element):
                if wireType != .lengthDelimited { try expect(wireType, element, field, message) }
                try reader.skip(wireType)
            }
        }
    }

    private static func expect(
        _ actual: WireType, _ expected: WireType, _ field: UInt64, _ message: WireMessage
    ) throws(OTLPDecodingError) {
        guard actual == expected else {
            throw OTLPDecodingError(
                "invalid protobuf: field \(field) of \(message.name) has wire type \(actual.name), expected \(expected.name)")
        }
    }
}
