import OTLP
import Pipeline

/// What an OTLP Export call over gRPC does once its message is in hand: validate and count it
/// with the wire scan (nothing is decoded), deliver it, and say which gRPC status answers it.
struct OTLPGRPCExport: Sendable {
    enum Outcome: Sendable, Equatable {
        /// The response message (an accepted export answers the empty message: zero bytes).
        case ok([UInt8])
        case failed(GRPCStatusCode, String)
    }

    let ingest: OTLPIngest
    let includeMetadata: Bool
    let maxMessageSize: Int
    /// `/<service>/Export` of each signal that has a pipeline.
    let paths: [String: Signal]

    init(ingest: OTLPIngest, includeMetadata: Bool, maxMessageSize: Int) {
        self.ingest = ingest
        self.includeMetadata = includeMetadata
        self.maxMessageSize = maxMessageSize
        var paths: [String: Signal] = [:]
        for signal in ingest.consumers.keys { paths["/\(signal.grpcService)/Export"] = signal }
        self.paths = paths
    }

    func tooLarge(_ size: Int) -> Outcome {
        .failed(.resourceExhausted, "message of \(size) bytes is larger than max_recv_msg_size_mib (\(maxMessageSize) bytes)")
    }

    func export(_ signal: Signal, _ bytes: [UInt8], headers: [(name: String, value: String)]) async -> Outcome {
        guard bytes.count <= maxMessageSize else { return tooLarge(bytes.count) }
        let batch: TelemetryBatch
        do {
            batch = try TelemetryBatch(signal: signal, protobuf: bytes, metadata: includeMetadata ? Self.requestMetadata(headers) : .empty)
        } catch {
            return .failed(.invalidArgument, error.message)
        }
        switch await ingest.deliver(batch) {
        case .accepted: return .ok([])
        case .retryLater(let failure): return .failed(.unavailable, failure.message)
        case .rejected(let failure): return .failed(.invalidArgument, failure.message)
        }
    }

    /// Request headers other than HTTP/2's pseudo-headers, names lower-cased.
    static func requestMetadata(_ headers: [(name: String, value: String)]) -> RequestMetadata {
        var out: [String: [String]] = [:]
        for (name, value) in headers where !name.hasPrefix(":") { out[name.lowercased(), default: []].append(value) }
        return RequestMetadata(headers: out)
    }
}

/// The gRPC status codes this receiver answers with.
enum GRPCStatusCode: Int, Sendable {
    case ok = 0
    case invalidArgument = 3
    case resourceExhausted = 8
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
}
