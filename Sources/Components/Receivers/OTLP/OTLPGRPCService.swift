import GRPCCore
import OTLP
import Pipeline

/// The three OTLP collector services over gRPC. Messages stay raw bytes: the serializers pass
/// them through and the receiver validates and counts them with a wire scan, so nothing is
/// decoded on this path.
struct OTLPGRPCService: RegistrableRPCService {
    let ingest: OTLPIngest
    let includeMetadata: Bool
    let maxMessageSize: Int

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        for signal in ingest.consumers.keys {
            let method = MethodDescriptor(fullyQualifiedService: signal.grpcService, method: "Export")
            router.registerHandler(forMethod: method, deserializer: RawBytes(), serializer: RawBytes()) { request, context in
                var message: [UInt8]?
                for try await part in request.messages {
                    message = part
                    break
                }
                let response = try await export(signal, message ?? [], metadata: request.metadata)
                return StreamingServerResponse(single: ServerResponse(message: response))
            }
        }
    }

    private func export(_ signal: Signal, _ bytes: [UInt8], metadata: Metadata) async throws -> [UInt8] {
        guard bytes.count <= maxMessageSize else {
            throw RPCError(code: .resourceExhausted,
                           message: "message of \(bytes.count) bytes is larger than max_recv_msg_size_mib (\(maxMessageSize) bytes)")
        }
        let batch: TelemetryBatch
        do {
            batch = try TelemetryBatch(signal: signal, protobuf: bytes, metadata: includeMetadata ? Self.requestMetadata(metadata) : .empty)
        } catch {
            throw RPCError(code: .invalidArgument, message: error.message)
        }
        switch await ingest.deliver(batch) {
        case .accepted:
            return []
        case .retryLater(let failure):
            throw RPCError(code: .unavailable, message: failure.message)
        case .rejected(let failure):
            throw RPCError(code: .invalidArgument, message: failure.message)
        }
    }

    static func requestMetadata(_ metadata: Metadata) -> RequestMetadata {
        var headers: [String: [String]] = [:]
        for (key, value) in metadata {
            if case .string(let text) = value { headers[key.lowercased(), default: []].append(text) }
        }
        return RequestMetadata(headers: headers)
    }
}

/// Passes message bytes through gRPC untouched (the response of an accepted export is the
/// empty message, whose encoding is zero bytes).
public struct RawBytes: MessageSerializer, MessageDeserializer {
    public init() {}
    public func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    public func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}
