import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import OTLP
import Pipeline
import Synchronization

/// `exporters.otlp`: sends batches to an OTLP/gRPC endpoint as the batch's bytes (nothing is
/// re-encoded). Retries the codes the OTLP specification calls transient (UNAVAILABLE, CANCELLED,
/// DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, DATA_LOSS, and RESOURCE_EXHAUSTED) through the
/// sending queue's `retry_on_failure` loop; any other code is permanent.
public final class OTLPGRPCExporter: Exporter {
    public static let factory = ExporterFactory(type: "otlp", stability: .beta, config: OTLPGRPCExporterConfig.self) { settings, config in
        OTLPGRPCExporter(settings: settings, config: config)
    }

    private let settings: ComponentSettings
    private let config: OTLPGRPCExporterConfig
    private let connection = MutexBox<(client: GRPCClient<HTTP2ClientTransport.Posix>, task: Task<Void, Never>)>(nil)
    private let authenticator: ExporterAuthenticator
    private let fixedHeaders: [(name: String, value: String)]

    init(settings: ComponentSettings, config: OTLPGRPCExporterConfig) {
        self.settings = settings
        self.config = config
        authenticator = ExporterAuthenticator(config.auth)
        fixedHeaders = config.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public func start() async throws {
        try authenticator.start(host: settings.host)
        if config.auth != nil, config.plaintext {
            // grpc-go refuses per-call credentials without TLS; they are sent here, with a warning.
            settings.logger.warning("auth.authenticator's credentials are sent over a plaintext connection (tls.insecure or http://); anyone on the path can read them")
        }
        guard let (host, port) = config.hostAndPort else { return }
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if config.plaintext {
            security = .plaintext
        } else {
            let tls = config.tls
            security = .tls { settings in
                if let pem = try? tls.caPEM() { settings.trustRoots = .certificates([.bytes(Array(pem.utf8), format: .pem)]) }
                if tls.insecure_skip_verify { settings.serverCertificateVerification = .noVerification }
                if !tls.cert_file.isEmpty { settings.certificateChain = [.file(path: tls.cert_file, format: .pem)] }
                if !tls.cert_pem.isEmpty { settings.certificateChain = [.bytes(Array(tls.cert_pem.utf8), format: .pem)] }
                if !tls.key_file.isEmpty { settings.privateKey = .file(path: tls.key_file, format: .pem) }
                if !tls.key_pem.isEmpty { settings.privateKey = .bytes(Array(tls.key_pem.utf8), format: .pem) }
            }
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: Self.target(host: host, port: port), transportSecurity: security,
            config: .defaults { $0.compression.enabledAlgorithms = .all })
        let client = GRPCClient(transport: transport)
        let logger = settings.logger
        let task = Task { do { try await client.runConnections() } catch { logger.error("gRPC client stopped: \(error)") } }
        connection.set((client, task))
    }

    /// An address literal is its own target: through the DNS resolver it would become the TLS
    /// server name, which may not be an address, and no connection would be made.
    private static func target(host: String, port: Int) -> any ResolvableTarget {
        switch (try? NIOCore.SocketAddress(ipAddress: host, port: port))?.protocol {
        case .inet?: .ipv4(address: host, port: port)
        case .inet6?: .ipv6(address: host, port: port)
        default: .dns(host: host, port: port)
        }
    }

    public func shutdown() async {
        guard let (client, task) = connection.take() else { return }
        client.beginGracefulShutdown()
        await task.value
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        guard let client = connection.get()?.client else { throw PipelineError.retryable("otlp exporter is not running") }
        var batch = batch
        let body = batch.encoded()
        let method = MethodDescriptor(fullyQualifiedService: batch.signal.grpcService, method: "Export")
        var options = CallOptions.defaults
        options.timeout = config.timeout.duration
        options.compression = config.compression == .gzip ? .gzip : CompressionAlgorithm.none
        options.waitForReady = config.wait_for_ready
        var metadata = Metadata()
        for (name, value) in try await authenticator.headers(fixedHeaders, for: batch.metadata).fields { metadata.addString(value, forKey: name.lowercased()) }
        let request = ClientRequest(message: body, metadata: metadata)
        let target = config.endpoint
        let attempt: ExportAttempt
        do {
            let reply = try await client.unary(request: request, descriptor: method, serializer: RawBytes(),
                                               deserializer: RawBytes(), options: options) { try $0.message }
            // The three responses share their shape: partial_success {rejected, message}.
            let response = (try? ExportTraceServiceResponse(serializedBytes: reply)) ?? ExportTraceServiceResponse()
            attempt = .delivered(rejected: response.partialSuccess.rejectedSpans, message: response.partialSuccess.errorMessage)
        } catch let error as RPCError {
            let text = "\(error.code) from \(target): \(error.message)"
            switch error.code {
            case .unavailable, .cancelled, .deadlineExceeded, .aborted, .outOfRange, .dataLoss, .resourceExhausted:
                attempt = .retry(text, after: nil)
            default:
                attempt = .fail(text)
            }
        } catch {
            attempt = .retry("cannot reach \(target): \(error)", after: nil)
        }
        let (rejected, message) = try attempt.settled()
        if rejected > 0 || !message.isEmpty {
            settings.telemetry.recordDropped(Int(rejected), signal: batch.signal, component: settings.id, reason: "rejected_by_destination")
            settings.logger.warning("partial success from \(target): \(rejected) \(batch.signal.itemName) rejected: \(message)")
        }
    }
}
