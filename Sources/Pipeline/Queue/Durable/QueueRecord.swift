import CDeflate
import OTLP

/// One record of a durable queue's log, as it sits in a segment file:
///
/// ```
/// offset  0  magic "OSQ1"          u32 LE
///         4  payload length        u32 LE
///         8  sequence number       u64 LE
///        16  item count            u32 LE
///        20  CRC-32 of the payload u32 LE
///        24  CRC-32 of bytes 0..<24 u32 LE
///        28  reserved (0)          u32
///        32  payload: version u8 (1), signal u8, reserved u16, accepted-at f64 (unix seconds),
///            metadata length u32, metadata, then the OTLP export request's protobuf
/// ```
///
/// The header has its own checksum so a reader that lost its place can find the next record by
/// searching for a header that checks out; the payload's checksum is computed by the caller that
/// queues the batch, off the writer's path.
enum QueueRecord {
    static let magic: UInt32 = 0x3151_534F  // "OSQ1" little-endian
    static let headerSize = 32
    static let maxPayload = 1 << 30

    struct Header: Equatable {
        var payloadLength: Int
        var sequence: UInt64
        var items: Int
        var payloadCRC: UInt32

        var frameLength: Int { QueueRecord.headerSize + payloadLength }
    }

    static func crc(_ bytes: UnsafeRawBufferPointer, continuing value: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return value }
        return UInt32(libdeflate_crc32(value, base, bytes.count))
    }

    static func crc(_ parts: [[UInt8]]) -> UInt32 {
        var value: UInt32 = 0
        for part in parts { value = part.withUnsafeBytes { crc($0, continuing: value) } }
        return value
    }

    static func encode(_ header: Header) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: headerSize)
        put(magic, at: 0, in: &bytes)
        put(UInt32(header.payloadLength), at: 4, in: &bytes)
        put(header.sequence, at: 8, in: &bytes)
        put(UInt32(header.items), at: 16, in: &bytes)
        put(header.payloadCRC, at: 20, in: &bytes)
        let check = bytes.withUnsafeBytes { crc(UnsafeRawBufferPointer(rebasing: $0[0..<24])) }
        put(check, at: 24, in: &bytes)
        return bytes
    }

    /// Zeros where a header would be: the end of the records in a reused segment file, whose
    /// older contents follow (a header never starts with zeros: it starts with the magic).
    static let endMarker = [UInt8](repeating: 0, count: headerSize)

    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == 0 }
    }

    /// The header at the start of `bytes`, if its magic and checksum hold.
    static func decodeHeader(_ bytes: UnsafeRawBufferPointer) -> Header? {
        guard bytes.count >= headerSize, load(UInt32.self, bytes, 0) == magic else { return nil }
        guard crc(UnsafeRawBufferPointer(rebasing: bytes[0..<24])) == load(UInt32.self, bytes, 24) else { return nil }
        let length = Int(load(UInt32.self, bytes, 4))
        guard length <= maxPayload else { return nil }
        return Header(payloadLength: length, sequence: load(UInt64.self, bytes, 8),
                      items: Int(load(UInt32.self, bytes, 16)), payloadCRC: load(UInt32.self, bytes, 20))
    }

    /// A batch's payload as pieces to be written one after another (the request's pieces are not
    /// joined), with its length and checksum.
    struct Payload {
        var parts: [[UInt8]]
        var length: Int
        var crc: UInt32
        var items: Int
    }

    static func payload(of batch: inout TelemetryBatch, acceptedAt: Double) -> Payload {
        var prefix: [UInt8] = [1, signalCode(batch.signal), 0, 0]
        append(acceptedAt.bitPattern, to: &prefix)
        let metadata = encode(batch.metadata.headers)
        append(UInt32(metadata.count), to: &prefix)
        prefix += metadata
        let parts = [prefix] + batch.encodedParts().map(\.bytes)
        return Payload(parts: parts, length: parts.reduce(0) { $0 + $1.count }, crc: crc(parts), items: batch.itemCount)
    }

    struct Decoded {
        var batch: TelemetryBatch
        var acceptedAt: Double
        var requestBytes: Int
    }

    /// The batch in a payload whose checksum already matched; nil if its layout is not ours.
    static func decodePayload(_ payload: [UInt8], items: Int) -> Decoded? {
        guard payload.count >= 16, payload[0] == 1, let signal = signal(payload[1]) else { return nil }
        return payload.withUnsafeBytes { raw -> Decoded? in
            let acceptedAt = Double(bitPattern: load(UInt64.self, raw, 4))
            let metadataLength = Int(load(UInt32.self, raw, 12))
            guard 16 + metadataLength <= payload.count,
                  let headers = decodeHeaders(UnsafeRawBufferPointer(rebasing: raw[16..<(16 + metadataLength)])) else { return nil }
            let request = Array(payload[(16 + metadataLength)...])
            let batch = TelemetryBatch(signal: signal, trustedProtobuf: request, itemCount: items, metadata: RequestMetadata(headers: headers))
            return Decoded(batch: batch, acceptedAt: acceptedAt, requestBytes: request.count)
        }
    }

    // MARK: - metadata: count u32, then per header: name (u32 length + bytes), count u32, values

    private static func encode(_ headers: [String: [String]]) -> [UInt8] {
        guard !headers.isEmpty else { return [] }
        var bytes: [UInt8] = []
        append(UInt32(headers.count), to: &bytes)
        for (name, values) in headers.sorted(by: { $0.key < $1.key }) {
            append(UInt32(name.utf8.count), to: &bytes)
            bytes += name.utf8
            append(UInt32(values.count), to: &bytes)
            for value in values {
                append(UInt32(value.utf8.count), to: &bytes)
                bytes += value.utf8
            }
        }
        return bytes
    }

    private static func decodeHeaders(_ raw: UnsafeRawBufferPointer) -> [String: [String]]? {
        guard raw.count > 0 else { return [:] }
        var offset = 0
        func u32() -> Int? {
            guard offset + 4 <= raw.count else { return nil }
            defer { offset += 4 }
            return Int(load(UInt32.self, raw, offset))
        }
        func string() -> String? {
            guard let length = u32(), offset + length <= raw.count else { return nil }
            defer { offset += length }
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)]), as: UTF8.self)
        }
        guard let count = u32() else { return nil }
        var headers: [String: [String]] = [:]
        for _ in 0..<count {
            guard let name = string(), let valueCount = u32() else { return nil }
            var values: [String] = []
            for _ in 0..<valueCount {
                guard let value = string() else { return nil }
                values.append(value)
            }
            headers[name] = values
        }
        return headers
    }

    private static func signalCode(_ signal: Signal) -> UInt8 {
        switch signal { case .traces: 0; case .metrics: 1; case .logs: 2 }
    }

    private static func signal(_ code: UInt8) -> Signal? {
        switch code { case 0: .traces; case 1: .metrics; case 2: .logs; default: nil }
    }

    static func load<T: FixedWidthInteger>(_: T.Type, _ raw: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    static func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { source in
            for (i, byte) in source.enumerated() { bytes[offset + i] = byte }
        }
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
