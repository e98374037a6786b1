import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OTLP
import Pipeline

/// `exporters.otlphttp`: posts batches to an OTLP/HTTP endpoint. Protobuf bodies are the batch's
/// bytes as received (nothing is re-encoded). Follows the OTLP/HTTP response rules: retries only
/// 429, 502, 503 and 504 (honouring Retry-After) and transport errors — the sending queue runs
/// `retry_on_failure` around each call; every other status is permanent. Items a server rejects in a partial success are
/// counted as dropped and logged.
public final class OTLPHTTPExporter: Exporter {
    public static let factory = ExporterFactory(type: "otlphttp", stability: .beta, config: OTLPHTTPExporterConfig.self) { settings, config in
        try OTLPHTTPExporter(settings: settings, config: config)
    }

    private let settings: ComponentSettings
    private let config: OTLPHTTPExporterConfig
    private let client: HTTPClient
    private let authenticator: ExporterAuthenticator
    private let fixedHeaders: [(name: String, value: String)]

    init(settings: ComponentSettings, config: OTLPHTTPExporterConfig) throws(ConfigError) {
        self.settings = settings
        self.config = config
        client = try HTTPClients.make(tls: config.tls, timeout: config.timeout, connections: config.connections)
        authenticator = ExporterAuthenticator(config.auth)
        fixedHeaders = config.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public func start() async throws {
        try authenticator.start(host: settings.host)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        var batch = batch
        let payload: ByteBuffer
        if config.encoding == .proto, config.compression == .none {
            // Pass-through: the received pieces go straight into the request buffer, one copy.
            let parts = batch.encodedParts()
            var buffer = ByteBufferAllocator().buffer(capacity: parts.reduce(0) { $0 + $1.bytes.count })
            for part in parts { buffer.writeBytes(part.bytes) }
            payload = buffer
        } else {
            let body: [UInt8]
            switch config.encoding {
            case .proto: body = batch.encoded()
            case .json: body = OTLPJSON.encode(try batch.model())
            }
            let compressed: ByteBuffer?
            switch config.compression {
            case .gzip: compressed = Compression.gzip(body, level: config.compression_params.gzipLevel(default: 6))
            case .zstd: compressed = Compression.zstd(body, level: config.compression_params.zstdLevel).map { ByteBuffer(bytes: $0) }
            case .none: compressed = ByteBuffer(bytes: body)
            }
            guard let compressed else { throw PipelineError.permanent("cannot compress the request body") }
            payload = compressed
        }
        let url = config.url(for: batch.signal)
        let (rejected, message) = try await attempt(url, payload, headers: try await authenticator.headers(fixedHeaders, for: batch.metadata)).settled()
        if rejected > 0 || !message.isEmpty {
            settings.telemetry.recordDropped(Int(rejected), signal: batch.signal, component: settings.id, reason: "rejected_by_destination")
            settings.logger.warning("partial success from \(url): \(rejected) \(batch.signal.itemName) rejected: \(message)")
        }
    }

    private func attempt(_ url: String, _ payload: ByteBuffer, headers: RequestHeaders) async -> ExportAttempt {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: config.encoding == .json ? "application/json" : "application/x-protobuf")
        request.headers.add(name: "User-Agent", value: "otelcol-swift")
        if config.compression != .none { request.headers.add(name: "Content-Encoding", value: config.compression.rawValue) }
        for (name, value) in headers.fields { request.headers.add(name: name, value: value) }
        request.body = .bytes(payload)
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(config.timeout.nanoseconds))
            let body = try await response.body.collect(upTo: 64 * 1024)
            let bytes = Array(body.readableBytesView)
            let contentType = response.headers.first(name: "content-type") ?? ""
            switch response.status.code {
            case 200..<300:
                return partialSuccess(bytes, json: contentType.hasPrefix("application/json"))
            case 429, 502, 503, 504:
                return .retry("HTTP \(response.status.code) from \(url)\(statusMessage(bytes, contentType))",
                              after: retryAfter(response.headers.first(name: "retry-after")))
            default:
                return .fail("HTTP \(response.status.code) from \(url)\(statusMessage(bytes, contentType))")
            }
        } catch {
            return .retry("cannot reach \(url): \(error)", after: nil)
        }
    }

    private func partialSuccess(_ bytes: [UInt8], json: Bool) -> ExportAttempt {
        guard !bytes.isEmpty else { return .delivered(rejected: 0, message: "") }
        // The three responses share their shape: field 1 partial_success {1: rejected, 2: message}.
        if json {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                  let partial = object["partialSuccess"] as? [String: Any] else { return .delivered(rejected: 0, message: "") }
            let rejected = partial.first(where: { $0.key.hasPrefix("rejected") })?.value
            let count = (rejected as? NSNumber)?.int64Value ?? Int64((rejected as? String) ?? "") ?? 0
            return .delivered(rejected: count, message: partial["errorMessage"] as? String ?? "")
        }
        guard let response = try? ExportTraceServiceResponse(serializedBytes: bytes) else {
            return .fail("the destination's response body is not an OTLP export response")
        }
        return .delivered(rejected: response.partialSuccess.rejectedSpans, message: response.partialSuccess.errorMessage)
    }

    private func statusMessage(_ bytes: [UInt8], _ contentType: String) -> String {
        if contentType.hasPrefix("application/x-protobuf"), let status = try? RPCStatus(serializedBytes: bytes), !status.message.isEmpty {
            return ": \(status.message)"
        }
        if contentType.hasPrefix("application/json"),
           let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], let message = object["message"] as? String {
            return ": \(message)"
        }
        return bytes.isEmpty ? "" : ": \(String(decoding: bytes.prefix(512), as: UTF8.self))"
    }

    /// Retry-After as seconds or an HTTP date.
    private func retryAfter(_ value: String?) -> Duration? {
        guard let value else { return nil }
        if let seconds = Int(value.trimmingCharacters(in: .whitespaces)) { return .seconds(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(max(0, Int64(date.timeIntervalSinceNow * 1000)))
    }
}
