import Components
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OTLP
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The answer an OTLP server gave to one export.
enum SendOutcome: Sendable {
    case accepted
    case retryable(String)
    case rejected(String)
}

protocol OTLPSender: Sendable {
    func send(_ signal: Signal, _ body: [UInt8]) async -> SendOutcome
    func close() async
}

/// Sends raw export requests over OTLP/gRPC.
final class GRPCSender: OTLPSender {
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    init(host: String, port: Int) throws {
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: host == "localhost" ? "127.0.0.1" : host, port: port),
                                                       transportSecurity: .plaintext)
        let client = GRPCClient(transport: transport)
        self.client = client
        connections = Task { try? await client.runConnections() }
    }

    func send(_ signal: Signal, _ body: [UInt8]) async -> SendOutcome {
        let method = MethodDescriptor(fullyQualifiedService: signal.grpcService, method: "Export")
        do {
            try await client.unary(request: ClientRequest(message: body), descriptor: method,
                                   serializer: RawBytes(), deserializer: RawBytes(), options: .defaults) { response in
                _ = try response.message
            }
            return .accepted
        } catch let error as RPCError {
            switch error.code {
            case .unavailable, .resourceExhausted, .aborted, .deadlineExceeded, .cancelled: return .retryable("\(error.code): \(error.message)")
            default: return .rejected("\(error.code): \(error.message)")
            }
        } catch {
            return .retryable("\(error)")
        }
    }

    func close() async {
        client.beginGracefulShutdown()
        await connections.value
    }
}

/// Sends export requests over OTLP/HTTP with protobuf bodies.
final class HTTPSender: OTLPSender {
    private let base: String
    private let session: URLSession

    init(endpoint: String) {
        base = endpoint.hasPrefix("http") ? endpoint : "http://\(endpoint)"
        session = URLSession(configuration: .ephemeral)
    }

    func send(_ signal: Signal, _ body: [UInt8]) async -> SendOutcome {
        guard let url = URL(string: base + signal.defaultHTTPPath) else { return .rejected("bad endpoint \(base)") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-protobuf", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        do {
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            switch status {
            case 200..<300: return .accepted
            case 429, 502, 503, 504: return .retryable("HTTP \(status)")
            default:
                let message = (try? RPCStatus(serializedBytes: [UInt8](data)))?.message ?? ""
                return .rejected("HTTP \(status) \(message)")
            }
        } catch {
            return .retryable("\(error)")
        }
    }

    func close() async { session.invalidateAndCancel() }
}
