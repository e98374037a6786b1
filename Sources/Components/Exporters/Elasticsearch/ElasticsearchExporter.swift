import Foundation
import Prometheus
import OTLP
import Pipeline

/// `exporters.elasticsearch`: writes telemetry as `create` actions through `_bulk`, in the Go
/// exporter's `otel` document shapes and data stream routing.
///
/// Every document's `_id` is derived from its target and content, so a redelivered Kafka record
/// or a retried request answers 409 for what is already stored, which counts as success: no
/// duplicates, and retrying server errors is safe. An export returns only when every document
/// is stored; items the server answers 429 (or another `retry_on_document_status`) for are sent
/// again with backoff, and what is still not stored after `retry.max_retries` makes the export
/// fail as retryable. Items rejected for good (mapping errors) are counted, logged with the
/// server's reason and make the export fail as permanent, naming how many.
public final class ElasticsearchExporter: Exporter {
    public static let factory = ExporterFactory(type: "elasticsearch", stability: .beta, config: ElasticsearchExporterConfig.self) { settings, config in
        try ElasticsearchExporter(settings: settings, config: config)
    }

    private let settings: ComponentSettings
    private let config: ElasticsearchExporterConfig
    private let client: BulkClient
    private let documentRetryStatuses: Set<Int>
    private let docsRetried: Counter

    init(settings: ComponentSettings, config: ElasticsearchExporterConfig) throws(ConfigError) {
        self.settings = settings
        self.config = config
        client = try BulkClient(config: config)
        documentRetryStatuses = config.documentRetryStatuses
        docsRetried = settings.telemetry.counter("otelcol_elasticsearch_docs_retried_total", [("exporter", settings.id.description)])
    }

    public func start() async throws {
        try client.authenticator.start(host: settings.host)
    }

    public func shutdown() async {
        await client.shutdown()
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        var batch = batch
        let server = await client.serverInfo()
        let options = OtelDocumentEncoder.Options(
            metricContentIDs: server.takesMetricIDs,
            dynamicTemplates: server.distribution == .elasticsearch,
            dynamicLogIDs: config.logs_dynamic_id.enabled,
            dynamicSpanIDs: config.traces_dynamic_id.enabled,
            dynamicLogPipelines: config.logs_dynamic_pipeline.enabled,
            bodymap: config.mappingMode == "bodymap")
        func makeEncoder() -> OtelDocumentEncoder {
            var encoder = OtelDocumentEncoder(router: DataStreamRouter(config: config), options: options)
            // A document is about 1 KB of JSON per item; growing the buffer step by step costs more.
            encoder.body.reserve(items: batch.itemCount, bytes: batch.itemCount * 1024)
            return encoder
        }
        if batch.signal != .logs, options.bodymap { throw unsupportedInBodymap(batch) }
        var encoder = makeEncoder()
        if batch.signal == .traces, !batch.isDecoded, batch.encodedParts().allSatisfy({ encoder.encodeTraces(wire: $0.bytes) }) {
            // Written from the received requests, one after another; no model was built.
        } else {
            let request: OTLPRequest
            do { request = try batch.model() } catch { throw PipelineError.permanent("cannot decode the batch: \(error)") }
            encoder = makeEncoder()
            switch request {
            case .logs(let logs): encoder.encode(logs)
            case .traces(let traces): encoder.encode(traces)
            case .metrics(let metrics): encoder.encode(metrics)
            }
        }
        for (reason, drop) in encoder.dropped {
            settings.telemetry.recordDropped(drop.count, signal: batch.signal, component: settings.id, reason: reason)
            settings.logger.warning("\(drop.count) \(batch.signal.itemName) not indexed: \(drop.example)")
        }
        guard !encoder.body.isEmpty else { return }
        try await send(encoder.body, signal: batch.signal, metadata: batch.metadata)
    }

    private func unsupportedInBodymap(_ batch: TelemetryBatch) -> PipelineError {
        settings.telemetry.recordDropped(batch.itemCount, signal: batch.signal, component: settings.id, reason: "unsupported_mapping_mode")
        return .permanent("mapping mode bodymap writes logs only; \(batch.itemCount) \(batch.signal.itemName) refused")
    }

    private struct Rejection {
        var index: String
        var status: Int
        var reason: String
    }

    /// Sends every item, retrying what the server did not take, until all are stored, some are
    /// rejected for good, or retries run out.
    private func send(_ body: BulkBody, signal: Signal, metadata: RequestMetadata) async throws {
        var pending = Array(body.items.indices)
        var rejections: [Rejection] = []
        var retryMessage = ""
        var attempt = 0
        var waits = config.retry.backoff.start()
        while true {
            var retry: [Int] = []
            var chunks = body.chunks(of: pending, maxBytes: config.flush.bytes)
            while !chunks.isEmpty {
                let chunk = chunks.removeFirst()
                let requireDataStream = await client.serverInfo().acceptsRequireDataStream
                    && chunk.allSatisfy { body.items[$0].dataStream }
                switch await client.post(body.body(of: chunk), items: chunk.count, requireDataStream: requireDataStream, metadata: metadata) {
                case .results(let results):
                    for (position, result) in zip(chunk, results) {
                        switch result.status {
                        case 200..<300, 409:
                            // 409: a document with this content id is already stored.
                            continue
                        case let status where documentRetryStatuses.contains(status):
                            retry.append(position)
                            retryMessage = "HTTP \(status) for documents of \(body.items[position].index): \(result.errorType ?? "")"
                        default:
                            rejections.append(Rejection(index: body.items[position].index, status: result.status,
                                                        reason: [result.errorType, result.errorReason].compactMap { $0 }.joined(separator: ": ")))
                        }
                    }
                case .retry(let message):
                    retry += chunk
                    retryMessage = message
                case .tooLarge where chunk.count > 1:
                    // Halves go out at once; only a single document can be too large by itself.
                    chunks.insert(contentsOf: [Array(chunk[..<(chunk.count / 2)]), Array(chunk[(chunk.count / 2)...])], at: 0)
                case .tooLarge:
                    rejections.append(Rejection(index: body.items[chunk[0]].index, status: 413,
                                                reason: "a document of \(body.items[chunk[0]].range.count) bytes is larger than the server accepts"))
                case .dataStreamParameterRejected:
                    settings.logger.info("the server does not take require_data_stream; sending without it")
                    client.markRejectsRequireDataStream()
                    chunks.insert(chunk, at: 0)
                case .failed(let status, let reason):
                    rejections += chunk.map { Rejection(index: body.items[$0].index, status: status, reason: reason) }
                }
            }
            if retry.isEmpty { break }
            guard attempt < config.maxRetries else {
                throw PipelineError.retryable("\(retry.count) of \(body.items.count) documents not stored after \(attempt + 1) attempts: \(retryMessage)")
            }
            attempt += 1
            docsRetried.increment(by: Int64(retry.count))
            guard await waits.wait() == .waited else { throw CancellationError() }
            pending = retry
        }
        guard rejections.isEmpty else { throw reject(rejections, of: body.items.count, signal: signal) }
    }


    private func reject(_ rejections: [Rejection], of total: Int, signal: Signal) -> PipelineError {
        settings.telemetry.recordDropped(rejections.count, signal: signal, component: settings.id, reason: "rejected_by_elasticsearch")
        var reasons: [String: (count: Int, example: Rejection)] = [:]
        for rejection in rejections {
            let key = "\(rejection.status) \(rejection.reason)"
            reasons[key, default: (0, rejection)].count += 1
        }
        for (_, entry) in reasons.sorted(by: { $0.value.count > $1.value.count }).prefix(5) {
            settings.logger.error("failed to index \(entry.count) documents into \(entry.example.index): HTTP \(entry.example.status) \(entry.example.reason)")
        }
        let first = rejections[0]
        return .permanent("\(rejections.count) of \(total) documents rejected by Elasticsearch (first: \(first.index): HTTP \(first.status) \(first.reason))")
    }
}
