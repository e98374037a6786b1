/// Client and transport facts that travel with a batch (OTLP request headers today; Kafka record
/// headers and offsets once the Kafka receiver sets them).
public struct RequestMetadata: Sendable, Equatable {
    /// Header names lower-cased, values in arrival order.
    public var headers: [String: [String]]
    /// The source can deliver this data again (a Kafka record whose offset is committed only
    /// after export), so exporter queues hold the caller until the destination accepted it.
    public var replayable: Bool

    public init(headers: [String: [String]] = [:], replayable: Bool = false) {
        self.headers = headers
        self.replayable = replayable
    }

    public static let empty = RequestMetadata()
}

/// The unit of telemetry that flows between components: one signal's export request, held as its
/// protobuf encoding, its decoded model, or both.
///
/// Components that only move data use `encoded()`; components that need fields call `model()`,
/// which decodes once and keeps the result, or `replace(with:)` after changing it, which drops the
/// now stale encoding. The item count is known from the start (a wire scan or the model).
public struct TelemetryBatch: Sendable {
    public let signal: Signal
    public private(set) var itemCount: Int
    public var metadata: RequestMetadata
    /// The encoding as pieces whose concatenation it is (one piece unless batches were merged),
    /// each with its item count; nil when only the model is held.
    private var parts: [Part]?
    private var decoded: OTLPRequest?

    /// Wraps an encoded request after validating its structure and counting its items.
    public init(signal: Signal, protobuf: [UInt8], metadata: RequestMetadata = .empty) throws(OTLPDecodingError) {
        self.signal = signal
        self.itemCount = try WireScan.itemCount(signal, in: protobuf)
        self.metadata = metadata
        self.parts = [Part(bytes: protobuf, items: itemCount)]
    }

    /// Wraps bytes whose structure and count are already known: pieces of a validated batch, or a
    /// request read back from a checksummed queue file.
    public init(signal: Signal, trustedProtobuf: [UInt8], itemCount: Int, metadata: RequestMetadata) {
        self.signal = signal
        self.itemCount = itemCount
        self.metadata = metadata
        self.parts = [Part(bytes: trustedProtobuf, items: itemCount)]
    }

    public init(_ request: OTLPRequest, metadata: RequestMetadata = .empty) {
        self.signal = request.signal
        self.itemCount = request.itemCount
        self.metadata = metadata
        self.decoded = request
    }

    public var isDecoded: Bool { decoded != nil }

    /// The protobuf encoding; encodes the model only when no encoding is held, and joins the
    /// pieces of merged batches once.
    public mutating func encoded() -> [UInt8] {
        if let parts, parts.count == 1 { return parts[0].bytes }
        let fresh: [UInt8]
        if let parts {
            var joined = [UInt8]()
            joined.reserveCapacity(parts.reduce(0) { $0 + $1.bytes.count })
            for part in parts { joined.append(contentsOf: part.bytes) }
            fresh = joined
        } else {
            fresh = decoded?.protobufBytes() ?? []
        }
        parts = [Part(bytes: fresh, items: itemCount)]
        return fresh
    }

    /// A piece of the encoding: a valid export request of its own.
    public struct Part: Sendable {
        public var bytes: [UInt8]
        public var items: Int
    }

    /// The encoding as pieces to be written one after another, for exporters that copy them
    /// into their own buffers anyway or group them into messages: merged batches are then never
    /// joined.
    public mutating func encodedParts() -> [Part] {
        if let parts { return parts }
        return [Part(bytes: encoded(), items: itemCount)]
    }

    /// The size of the encoding; encodes the model only when no encoding is held.
    public mutating func encodedByteCount() -> Int {
        if let parts { return parts.reduce(0) { $0 + $1.bytes.count } }
        return encoded().count
    }

    /// The decoded request; decodes at most once per batch value.
    public mutating func model() throws(OTLPDecodingError) -> OTLPRequest {
        if let decoded { return decoded }
        let fresh = try OTLPRequest(signal: signal, protobuf: encoded())
        decoded = fresh
        return fresh
    }

    /// Replaces the content after a component changed it.
    public mutating func replace(with request: OTLPRequest) {
        precondition(request.signal == signal, "a batch keeps its signal")
        decoded = request
        parts = nil
        itemCount = request.itemCount
    }

    /// Replaces the content with an encoding a component wrote from this batch's own (validated)
    /// bytes, such as items dropped by a wire rewrite.
    public mutating func replace(withTrustedProtobuf bytes: [UInt8], itemCount: Int) {
        decoded = nil
        parts = [Part(bytes: bytes, items: itemCount)]
        self.itemCount = itemCount
    }

    /// One batch holding the items of all `batches`, in order. The export request's only field is
    /// the repeated resource list, so concatenating encodings is a valid encoding of the merged
    /// list: nothing is decoded, and the pieces are joined only when someone asks for the whole.
    /// Metadata is taken from the first batch; the result is replayable if any batch is.
    public static func concatenating(_ batches: [TelemetryBatch]) -> TelemetryBatch? {
        guard var first = batches.first else { return nil }
        if batches.count == 1 { return first }
        var merged: [Part] = []
        merged.reserveCapacity(batches.count)
        var count = 0
        for var batch in batches {
            merged += batch.encodedParts()
            count += batch.itemCount
            if batch.metadata.replayable { first.metadata.replayable = true }
        }
        first.parts = merged
        first.decoded = nil
        first.itemCount = count
        return first
    }
}

extension TelemetryBatch {
    /// The first `count` items and the rest, both with this batch's metadata. Decodes the batch.
    public mutating func split(first count: Int) throws(OTLPDecodingError) -> (head: TelemetryBatch, tail: TelemetryBatch) {
        let (head, tail) = try model().split(first: count)
        return (TelemetryBatch(head, metadata: metadata), TelemetryBatch(tail, metadata: metadata))
    }
}
