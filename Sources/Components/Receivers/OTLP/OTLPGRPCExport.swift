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
    /// `auth.authenticator`: a call it refuses is answered UNAUTHENTICATED and its data dropped unread.
    let authenticator: (any ServerAuthenticator)?

    init(ingest: OTLPIngest, includeMetadata: Bool, maxMessageSize: Int, authenticator: (any ServerAuthenticator)? = nil) {
        self.ingest = ingest
        self.includeMetadata = includeMetadata
        self.maxMessageSize = maxMessageSize
        self.authenticator = authenticator
        var paths: [String: Signal] = [:]
        for signal in ingest.consumers.keys { paths["/\(signal.grpcService)/Export"] = signal }
        self.paths = paths
    }

    static func tooLarge(_ size: Int, limit: Int) -> Outcome {
        .failed(.resourceExhausted, "message of \(size) bytes is larger than max_recv_msg_size_mib (\(limit) bytes)")
    }

    func export(_ signal: Signal, _ bytes: [UInt8], headers: RequestHeaders) async -> Outcome {
        guard bytes.count <= maxMessageSize else { return Self.tooLarge(bytes.count, limit: maxMessageSize) }
        let batch: TelemetryBatch
        do {
            batch = try TelemetryBatch(signal: signal, protobuf: bytes, metadata: includeMetadata ? Self.requestMetadata(headers) : .empty)
        } catch {
            return .failed(.invalidArgument, error.message)
        }
        let deliver = { @Sendable () async -> Outcome in
            switch await ingest.deliver(batch) {
            case .accepted: return .ok([])
            case .retryLater(let failure): return .failed(.unavailable, failure.message)
            case .rejected(let failure): return .failed(.invalidArgument, failure.message)
            }
        }
        // HTTP/2 header names are lower case, so they are compared as they are.
        guard let timeout = headers.fields.first(where: { $0.name == "grpc-timeout" }).flatMap({ Self.timeout($0.value) }) else {
            return await deliver()
        }
        // The client gives up at its deadline; holding the call longer only holds its memory.
        // The delivery is cancelled, and whatever it had handed on may still arrive (the client
        // retries, so at least once).
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask { await deliver() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failed(.deadlineExceeded, "the client's deadline (grpc-timeout) passed before the data was accepted")
        }
    }

    /// `grpc-timeout`: up to eight digits and a unit (H, M, S, m, u, n).
    static func timeout(_ value: String) -> Duration? {
        guard let unit = value.last, let amount = Int64(value.dropLast()), amount >= 0, value.count <= 9 else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }

    /// Request headers other than HTTP/2's pseudo-headers, names lower-cased.
    static func requestMetadata(_ headers: RequestHeaders) -> RequestMetadata {
        var out: [String: [String]] = [:]
        for (name, value) in headers.fields where !name.hasPrefix(":") { out[name.lowercased(), default: []].append(value) }
        return RequestMetadata(headers: out)
    }
}

/// The gRPC status codes this receiver answers with.
enum GRPCStatusCode: Int, Sendable {
    case ok = 0
    case invalidArgument = 3
    case deadlineExceeded = 4
    case resourceExhausted = 8
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case unauthenticated = 16
}
