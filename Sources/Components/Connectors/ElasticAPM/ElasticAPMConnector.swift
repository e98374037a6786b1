import Foundation
import Logging
import OTLP
import Pipeline
import Synchronization

/// `connectors.elasticapm`: aggregates traces, logs and metrics into the metric sets Kibana's
/// APM UI reads (`service_summary`, `service_transaction`, `transaction`, `service_destination`)
/// at 1m, 10m and 60m, as Elastic's gateway runs its connector; the output is delta metrics for
/// the elasticsearch exporter, hinted (`_doc_count`, `aggregate_metric_double`) so that
/// Elasticsearch's own templates take them, in `metrics-<set>.<N>m.otel-<namespace>`.
///
/// One instance takes every signal. A batch counts as delivered once it is aggregated: the
/// windows are held in memory and exported when the collector's clock passes their end, and all
/// of them at shutdown. An export that fails is logged and its points counted as dropped.
public final class ElasticAPMConnector: Connector {
    public static let factory = ConnectorFactory(type: "elasticapm", stability: .alpha,
                                                 pairs: [(.traces, .metrics), (.logs, .metrics), (.metrics, .metrics)],
                                                 config: ElasticAPMConnectorConfig.self, sharedAcrossSignals: true) { settings, config, _, next in
        guard let metrics = next[.metrics] else { throw ConnectorWithoutPipeline(id: settings.id, signal: .metrics) }
        return ElasticAPMConnector(config: config, settings: settings, next: metrics)
    }

    private let sets: APMMetricSets
    private let sought: SpanReading.Sought
    private let metadataKeys: [String]
    private let state: Mutex<IntervalAggregation>
    private let next: any Consumer
    private let settings: ComponentSettings
    private let now: @Sendable () -> UInt64
    private let timer = Mutex<Task<Void, Never>?>(nil)

    init(config: ElasticAPMConnectorConfig, settings: ComponentSettings, next: any Consumer,
         now: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1e9) }) {
        sets = APMMetricSets(customResourceKeys: config.custom_resource_attributes.map(\.key), customSpanKeys: config.custom_span_attributes)
        sought = SpanReading.Sought(customKeys: config.custom_span_attributes)
        metadataKeys = config.aggregation.metadata_keys.map { $0.lowercased() }
        let limits = config.aggregation.limits
        state = Mutex(IntervalAggregation(intervals: config.aggregation.intervals.map(\.nanoseconds),
                                          limits: .init(resources: limits.resource.max_cardinality, metrics: limits.metric.max_cardinality,
                                                        datapoints: limits.datapoint.max_cardinality)))
        self.next = next
        self.settings = settings
        self.now = now
    }

    public func start() async throws {
        let smallest = state.withLock { $0.intervals.first } ?? 60_000_000_000
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                // Sleep to the next boundary of the smallest interval on the wall clock.
                let current = self.now()
                let wait = UInt64(smallest) - current % UInt64(smallest)
                try? await Task.sleep(for: .nanoseconds(Int64(wait)))
                if Task.isCancelled { return }
                await self.export(self.harvest(now: self.now()))
            }
        }
        timer.withLock { $0 = task }
    }

    public func shutdown() async {
        timer.withLock { $0?.cancel(); $0 = nil }
        await export(harvest(now: now(), everything: true))
    }

    /// Every signal is read where it lies; only resource attributes are decoded.
    public func consume(_ batch: TelemetryBatch) async throws {
        var batch = batch
        var aggregate = BatchAggregate()
        var span = SpanReading(sought)
        do {
            for part in batch.encodedParts() {
                try part.bytes.withUnsafeBytes { buffer in try read(buffer, signal: batch.signal, into: &aggregate, span: &span) }
            }
        } catch {
            throw PipelineError.permanent("cannot read the batch: \(error)")
        }
        guard !aggregate.isEmpty else { return }
        let records = aggregate.records()
        let partition = partition(of: batch.metadata)
        let time = now()
        state.withLock { $0.add(records, at: time, partition: partition) }
    }

    /// An encoded request: each span's observations, or each resource's count of log records or
    /// data points.
    private func read(_ buffer: UnsafeRawBufferPointer, signal: Signal, into aggregate: inout BatchAggregate,
                      span: inout SpanReading) throws(OTLPDecodingError) {
        var top = WireReader(buffer)
        var key: [UInt8] = []
        while let (start, entry) = try top.next(lengthDelimited: 1) {
            let container = try WireFields(buffer, entry)
            var resourceBytes: [UInt8] = []
            container.forEachOccurrence(1) { _, body in resourceBytes += buffer[body]; return true }
            // Occurrences of a singular message merge, as their concatenation decodes.
            let decoded: Resource
            do { decoded = try Resource(serializedBytes: resourceBytes) } catch { throw OTLPDecodingError("invalid resource: \(error)") }
            let resource = aggregate.addResource(sets.resources(decoded.attributes))
            guard signal == .traces else {
                // The resource entry with its tag is a request of its own.
                let items = try WireScan.itemCount(signal, in: UnsafeRawBufferPointer(rebasing: buffer[start..<entry.upperBound]))
                if items > 0 {
                    aggregate.add(.summary, resource: resource, attributes: APMMetricSets.summaryAttributes) { value, _ in value.int &+= Int64(items) }
                }
                continue
            }
            // Loops rather than closures: a reading captured by a closure is copied for each span.
            var scopes = WireReader(buffer, range: entry)
            while let (_, scopeBody) = try scopes.next(lengthDelimited: 2) {
                var spans = WireReader(buffer, range: scopeBody)
                while let (_, spanBody) = try spans.next(lengthDelimited: 2) {
                    try span.read(buffer, spanBody)
                    sets.add(span, resource: resource, to: &aggregate, key: &key)
                }
            }
        }
    }

    /// The windows due at `now`; exported by the caller outside the lock.
    func harvest(now: UInt64, everything: Bool = false) -> [IntervalAggregation.Harvest] {
        state.withLock { $0.harvest(now: now, everything: everything) }
    }

    func export(_ harvests: [IntervalAggregation.Harvest]) async {
        for harvest in harvests {
            if harvest.dropped > 0 {
                settings.telemetry.recordDropped(harvest.dropped, signal: .metrics, component: settings.id, reason: "cardinality_limit")
                settings.logger.warning("\(harvest.dropped) aggregated series over the cardinality limits were left out of the \(harvest.interval / 60_000_000_000)m window; counted in _overflow_metric/_overflow_datapoints")
            }
            let points = OTLPRequest.metrics(harvest.request).itemCount
            guard points > 0 else { continue }
            do {
                try await next.consume(TelemetryBatch(.metrics(harvest.request), metadata: RequestMetadata(headers: harvest.partition)))
            } catch {
                settings.telemetry.recordDropped(points, signal: .metrics, component: settings.id, reason: "export_failed")
                settings.logger.error("aggregated metrics of the \(harvest.interval / 60_000_000_000)m window could not be exported (\(points) points dropped): \(error)")
            }
        }
    }

    private func partition(of metadata: RequestMetadata) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for key in metadataKeys { if let values = metadata.headers[key] { out[key] = values } }
        return out
    }
}
