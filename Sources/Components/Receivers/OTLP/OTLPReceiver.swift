import NIOCore
import OTLP
import Pipeline
import Synchronization

/// The `otlp` receiver: OTLP over gRPC and HTTP into the pipelines that list it. A client is
/// answered only after its data was accepted downstream, with the downstream outcome.
public final class OTLPReceiver: Receiver {
    private let settings: ComponentSettings
    private let config: OTLPReceiverConfig
    private let consumers: [Signal: any Consumer]
    private let grpcServer = Mutex<OTLPGRPCServer?>(nil)
    private let httpServer = Mutex<HTTPServer?>(nil)
    /// Ports actually bound (differs from the config with port 0); for tests and logs.
    public let boundPorts = Mutex<(grpc: Int?, http: Int?)>((nil, nil))

    init(settings: ComponentSettings, config: OTLPReceiverConfig, consumers: [Signal: any Consumer]) {
        self.settings = settings
        self.config = config
        self.consumers = consumers
    }

    public func start() async throws {
        if let grpc = config.protocols.grpc { try await startGRPC(grpc) }
        if let http = config.protocols.http { try await startHTTP(http) }
    }

    private func startGRPC(_ grpc: OTLPReceiverConfig.GRPCSettings) async throws {
        guard let (host, port) = HTTPServer.split(endpoint: grpc.endpoint) else { return }
        let observer = ReceiverObserver(telemetry: settings.telemetry, receiver: settings.id, transport: "grpc")
        let authenticator = try grpc.auth.map { auth throws(StartFailure) in
            try settings.host.serverAuthenticator(auth, key: "protocols.grpc.auth.authenticator")
        }
        let export = OTLPGRPCExport(ingest: OTLPIngest(consumers: consumers, observer: observer, settings: settings),
                                    includeMetadata: grpc.include_metadata, maxMessageSize: grpc.max_recv_msg_size_mib * 1024 * 1024,
                                    authenticator: authenticator)
        let tls = try grpc.tls?.context(path: "protocols.grpc.tls", alpn: OTLPReceiverConfig.grpcALPN)
        let server = OTLPGRPCServer(host: host == "localhost" ? "127.0.0.1" : host, port: port, export: export,
                                    maxConcurrentStreams: grpc.max_concurrent_streams > 0 ? grpc.max_concurrent_streams : 4096, tls: tls)
        let bound = try await server.start()
        grpcServer.withLock { $0 = server }
        boundPorts.withLock { $0.grpc = bound }
        settings.logger.info("OTLP/gRPC listening on \(host):\(bound)\(tls == nil ? "" : " (TLS)")")
    }

    private func startHTTP(_ http: OTLPReceiverConfig.HTTPSettings) async throws {
        guard let (host, port) = HTTPServer.split(endpoint: http.endpoint) else { return }
        let observer = ReceiverObserver(telemetry: settings.telemetry, receiver: settings.id, transport: "http")
        let authenticator = try http.auth.map { auth throws(StartFailure) in
            try settings.host.serverAuthenticator(auth, key: "protocols.http.auth.authenticator")
        }
        let handler = OTLPHTTPHandler(ingest: OTLPIngest(consumers: consumers, observer: observer, settings: settings), settings: http,
                                      authenticator: authenticator)
        // The raw body may be compressed; the decompressed size is limited separately, so the
        // transport limit only bounds what a connection may buffer.
        let tls = try http.tls?.context(path: "protocols.http.tls", alpn: OTLPReceiverConfig.httpALPN)
        let server = HTTPServer(host: host, port: port, key: "protocols.http.endpoint", maxBodySize: http.max_request_body_size,
                                connections: http.connections,
                                prepareConnection: { try $0.pipeline.syncOperations.addTLS(tls) }) { request in
            await handler.handle(request)
        }
        let bound = try await server.start()
        httpServer.withLock { $0 = server }
        boundPorts.withLock { $0.http = bound }
        settings.logger.info("OTLP/HTTP listening on \(host):\(bound)\(tls == nil ? "" : " (TLS)")")
    }

    public func shutdown() async {
        if let server = httpServer.withLock({ $0 }) { await server.shutdown() }
        if let grpc = grpcServer.withLock({ $0 }) { await grpc.shutdown() }
    }
}
