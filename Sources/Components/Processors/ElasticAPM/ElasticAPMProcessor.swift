import Logging
import OTLP
import Pipeline
import Synchronization

/// `processors.elasticapm`: adds the fields Kibana's APM UI reads (`processor.event`,
/// `transaction.*`, `span.*`, `event.outcome`, `service.target.*`, `agent.*`, …) to traces,
/// and the resource and scope fields to logs and metrics, as Elastic's processor does for the
/// Elasticsearch exporter's otel mode.
///
/// A batch still encoded is enriched on its encoding (`SpanEnrichment+Wire.swift`): each span is
/// copied as bytes with the entries it gains appended; a decoded one on its model.
public final class ElasticAPMProcessor: Processor {
    public static let factory = ProcessorFactory(type: "elasticapm", stability: .alpha, config: ElasticAPMProcessorConfig.self) { settings, config, _, next in
        ElasticAPMProcessor(config: config, logger: settings.logger, next: next)
    }

    private let resourceRules: ResourceEnrichment
    private let spanRules: SpanEnrichment
    private let metricRules: ElasticAPMProcessorConfig.MetricSwitches
    private let skipsLogsAndMetrics: Bool
    private let logger: Logger
    private let warnedECS = Atomic(false)
    private let next: any Consumer

    init(config: ElasticAPMProcessorConfig, logger: Logger, next: any Consumer) {
        resourceRules = ResourceEnrichment(resource: config.resource, scope: config.scope)
        spanRules = SpanEnrichment(transaction: config.elastic_transaction, span: config.elastic_span, event: config.span_event)
        metricRules = config.elastic_metric
        skipsLogsAndMetrics = config.skip_enrichment
        self.logger = logger
        self.next = next
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        var batch = batch
        noteECSRequest(batch.metadata)
        if batch.signal != .traces, skipsLogsAndMetrics { return try await next.consume(batch) }
        if !batch.isDecoded, try enrichEncoded(&batch) { return try await next.consume(batch) }
        switch try batch.requestForProcessing() {
        case .traces(var data):
            enrich(&data.resourceSpans, signal: .traces) { spanRules.enrich(&$0) }
            batch.replace(with: .traces(data))
        case .logs(var data):
            enrich(&data.resourceLogs, signal: .logs) { _ in }
            batch.replace(with: .logs(data))
        case .metrics(var data):
            enrich(&data.resourceMetrics, signal: .metrics) { _ in }
            batch.replace(with: .metrics(data))
        }
        try await next.consume(batch)
    }

    /// The resource and scope rules on every entry, and `item` on every item. An absent resource
    /// or scope the rules leave unchanged stays absent, as on the encoded path.
    private func enrich<Entry: ResourceEntry>(_ entries: inout [Entry], signal: Signal, _ item: (inout Entry.Scope.Item) -> Void) {
        entries.editResources { enrichResource(&$0, signal: signal) }
        for r in entries.indices {
            for s in entries[r].scopes.indices {
                var scope = entries[r].scopes[s].scope
                resourceRules.enrich(&scope)
                if scope != entries[r].scopes[s].scope { entries[r].scopes[s].scope = scope }
                for i in entries[r].scopes[s].items.indices { item(&entries[r].scopes[s].items[i]) }
            }
        }
    }

    private func enrichResource(_ resource: inout Resource, signal: Signal) {
        let rules = metricRules
        editInPlace(&resource, \.attributes) { attributes in
            if signal == .metrics {
                if rules.processor_event.enabled { attributes.insert("processor.event", string: "metric") }
                if rules.metricset_name.enabled { attributes.insert("metricset.name", string: "app") }
            }
            resourceRules.enrich(&attributes)
        }
    }

    /// The batch enriched on its encoding: spans through the wire rules, resources and scopes
    /// (a few per request) decoded, enriched and written again, in one rewrite of the request.
    /// False when the encoding has a shape only the decoded path reads right.
    private func enrichEncoded(_ batch: inout TelemetryBatch) throws -> Bool {
        let signal = batch.signal, bytes = batch.encoded(), count = batch.itemCount
        let rules = spanRules, resourceRules = self.resourceRules
        let resource = { (fields: WireFields) throws -> [UInt8]? in
            let before = try Resource(serializedBytes: Array(fields.buffer[fields.range]))
            var resource = before
            self.enrichResource(&resource, signal: signal)
            return resource == before ? nil : try resource.serializedBytes()
        }
        let scope = { (fields: WireFields) throws -> [UInt8]? in
            let before = try InstrumentationScope(serializedBytes: Array(fields.buffer[fields.range]))
            var scope = before
            resourceRules.enrich(&scope)
            return scope == before ? nil : try scope.serializedBytes()
        }
        return try runOnEncoding {
            let changed: [UInt8]?
            if signal == .traces {
                var scratch = SpanEnrichment.WireScratch()
                changed = try WireRewrite.rewrite(.traces, bytes, itemCount: count, dropsEmpty: false,
                                                  keepResource: { _ in true }, keepScope: { _, _ in true },
                                                  replaceResource: resource, replaceScope: scope,
                                                  item: { span, _, _, bodies in try rules.enrich(span, into: &bodies, scratch: &scratch) })?.bytes
            } else {
                changed = try WireRewrite.rewriteContainers(bytes, resource: resource, scope: scope)
            }
            if let changed { batch.replace(withTrustedProtobuf: changed, itemCount: count) }
        }
    }

    /// Elastic's processor takes its ECS path for these requests; this one has none, which is
    /// said once rather than for every request.
    private func noteECSRequest(_ metadata: RequestMetadata) {
        guard metadata.headers["x-elastic-mapping-mode"]?.first == "ecs",
              !warnedECS.exchange(true, ordering: .relaxed) else { return }
        logger.warning("requests with x-elastic-mapping-mode: ecs get the otel-mode enrichment; the ECS path is not implemented")
    }
}
