import Foundation

/// Rewrites the values of trace and span id members in JSON text between OTLP/JSON's hex form
/// and the base64 form of the generic protobuf JSON mapping, leaving every other byte as it is.
///
/// OTLP/JSON is protobuf's JSON mapping except that ids are hex; the JSON codec lets
/// swift-protobuf do the mapping and fixes the ids with this rewrite. Object member names are
/// recognised as strings followed by a colon, so attribute values that happen to be "traceId"
/// are never touched (attributes are `{"key": ..., "value": ...}` objects).
enum JSONIdentifierRewriter {
    enum Direction { case hexToBase64, base64ToHex }

    /// Member names whose string values are ids, with their byte length.
    static func idLength(forMember name: ArraySlice<UInt8>) -> Int? {
        switch String(decoding: name, as: UTF8.self) {
        case "traceId", "trace_id": 16
        case "spanId", "span_id", "parentSpanId", "parent_span_id": 8
        default: nil
        }
    }

    static func rewrite(_ input: [UInt8], _ direction: Direction) throws(OTLPDecodingError) -> [UInt8] {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":")
        var out = [UInt8]()
        out.reserveCapacity(input.count + input.count / 8)
        var pendingLength: Int?
        var pendingName = ""
        var i = 0
        let n = input.count
        while i < n {
            let c = input[i]
            if c == quote {
                let start = i
                i += 1
                while i < n, input[i] != quote { i += input[i] == backslash ? 2 : 1 }
                guard i < n else { throw OTLPDecodingError("invalid JSON: unterminated string at offset \(start)") }
                let content = input[(start + 1)..<i]
                i += 1
                if let length = pendingLength {
                    pendingLength = nil
                    out.append(quote)
                    out.append(contentsOf: try convert(content, length: length, member: pendingName, direction))
                    out.append(quote)
                    continue
                }
                var j = i
                while j < n, isWhitespace(input[j]) { j += 1 }
                if j < n, input[j] == colon, let length = idLength(forMember: content) {
                    pendingLength = length
                    pendingName = String(decoding: content, as: UTF8.self)
                }
                out.append(contentsOf: input[start..<i])
                continue
            }
            if !isWhitespace(c), c != colon { pendingLength = nil }
            out.append(c)
            i += 1
        }
        return out
    }

    private static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }

    private static func convert(
        _ value: ArraySlice<UInt8>, length: Int, member: String, _ direction: Direction
    ) throws(OTLPDecodingError) -> [UInt8] {
        if value.isEmpty { return [] }
        switch direction {
        case .hexToBase64:
            guard value.count == length * 2, let raw = hexDecode(value) else {
                throw OTLPDecodingError(
                    "invalid JSON: \(member) must be \(length * 2) hex characters, got \"\(String(decoding: value, as: UTF8.self))\"")
            }
            return Array(Data(raw).base64EncodedString().utf8)
        case .base64ToHex:
            guard let raw = Data(base64Encoded: Data(value)) else {
                throw OTLPDecodingError("invalid \(member) encoding")
            }
            return hexEncode(raw)
        }
    }

    static func hexDecode(_ hex: ArraySlice<UInt8>) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            guard let hi = nibble(hex[index]), let lo = nibble(hex[index + 1]) else { return nil }
            out.append(hi << 4 | lo)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func hexEncode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(hexDigit(b >> 4))
            out.append(hexDigit(b & 0x0F))
        }
        return out
    }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }
}

/// Lower-case hex of bytes, as OTLP/JSON and Kafka keys spell trace and span ids.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    Array(bytes).withUnsafeBytes { hexString($0) }
}

/// Written straight into the string's storage: ids and hashes are hex-encoded per item.
public func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        writeHex(bytes, into: UnsafeMutableRawBufferPointer(out))
        return bytes.count * 2
    }
}

/// Lower-case hex of `bytes` written into the first `2 × bytes.count` bytes of `out`.
public func writeHex(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
    for (index, b) in bytes.enumerated() {
        out[2 * index] = JSONIdentifierRewriter.hexDigit(b >> 4)
        out[2 * index + 1] = JSONIdentifierRewriter.hexDigit(b & 0x0F)
    }
}
