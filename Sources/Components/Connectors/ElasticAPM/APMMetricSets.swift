import Foundation
import OTLP

/// The metric sets of Elastic's APM connector, as its signal-to-metrics configuration defines
/// them: which items count for which metric, with which resource and data point attributes.
///
/// An attribute the set requires and the item lacks leaves the item out of that metric;
/// optional ones are copied when present; resource attributes are copied when present (or
/// defaulted).
struct APMMetricSets: Sendable {
    let customResourceKeys: [String]
    let customSpanKeys: [String]
    /// Per span set, the custom keys (bit i for the i-th) the set has already: an attribute is
    /// held once per data point, as in a pdata map.
    private let customAlready: (serviceTransaction: UInt64, transaction: UInt64, destination: UInt64)

    init(customResourceKeys: [String], customSpanKeys: [String]) {
        self.customResourceKeys = customResourceKeys
        self.customSpanKeys = customSpanKeys
        func already(_ own: [String]) -> UInt64 {
            var seen = Set(own + ["metricset.name"]), mask: UInt64 = 0
            for (index, key) in customSpanKeys.prefix(SpanReading.maxCustomKeys).enumerated() where !seen.insert(key).inserted {
                mask |= 1 << UInt64(index)
            }
            return mask
        }
        customAlready = (already(["transaction.root", "transaction.type"]),
                         already(["transaction.root", "transaction.name", "transaction.type", "event.outcome", "transaction.result"]),
                         already(["span.name", "event.outcome", "service.target.type", "service.target.name", "span.destination.service.resource"]))
    }

    static let commonResourceKeys = ["service.name", "deployment.environment", "telemetry.sdk.language", "data_stream.namespace"]
    static let transactionResourceKeys = [
        "container.id", "k8s.pod.name", "service.version", "service.instance.id", "process.runtime.name", "process.runtime.version",
        "telemetry.sdk.version", "host.name", "os.type", "faas.instance", "faas.name", "faas.version", "cloud.provider",
        "cloud.region", "cloud.availability_zone", "cloud.platform", "cloud.account.id", "faas.trigger", "faas.coldstart",
        "host.hostname", "cloud.account.name", "cloud.machine.type", "cloud.project.id", "cloud.project.name",
    ]

    static let serviceSummary = MetricRecord.Metric(id: 0, name: "service_summary", description: "", unit: "", kind: .intSum)
    static let responseTimeSum = MetricRecord.Metric(id: 1, name: "span.destination.service.response_time.sum.us",
                                                     description: "APM span destination metrics", unit: "us", kind: .doubleSum)
    static let responseTimeCount = MetricRecord.Metric(id: 2, name: "span.destination.service.response_time.count",
                                                       description: "APM span destination metrics", unit: "", kind: .intSum)

    /// The three metrics of the service transaction set (`base` 3) or the transaction set (6).
    struct TransactionMetrics {
        let histogram: MetricRecord.Metric
        let summary: MetricRecord.Metric
        let success: MetricRecord.Metric

        init(_ set: String, base: Int) {
            histogram = .init(id: base, name: "transaction.duration.histogram", description: "APM \(set) aggregated metrics as histogram",
                              unit: "us", kind: .exponentialHistogram)
            summary = .init(id: base + 1, name: "transaction.duration.summary", description: "APM \(set) aggregated metrics as summary",
                            unit: "us", kind: .histogram)
            success = .init(id: base + 2, name: "event.success_count", description: "Success count as a metric for \(set)", unit: "us", kind: .histogram)
        }
    }

    static let serviceTransactionMetrics = TransactionMetrics("service transaction", base: 3)
    static let transactionMetrics = TransactionMetrics("transaction", base: 6)
    static let summaryAttributes = SeriesKey([string("metricset.name", "service_summary")]).bytes
    static let docCountHint = SeriesKey([hints("_doc_count")])
    static let aggregateHint = SeriesKey([hints("aggregate_metric_double")])
    /// The `metricset.name` entries of the span sets, as key bytes.
    static let serviceTransactionName = SeriesKey([string("metricset.name", "service_transaction")]).bytes
    static let transactionName = SeriesKey([string("metricset.name", "transaction")]).bytes
    static let destinationName = SeriesKey([string("metricset.name", "service_destination")]).bytes
    static let rootEntries = [SeriesKey([bool("transaction.root", false)]).bytes, SeriesKey([bool("transaction.root", true)]).bytes]
    static let spanNameKey = Array("span.name".utf8)
    static let successBytes = Array("success".utf8)
    /// The keys a span needs for each set.
    private static let serviceTransactionKeys = SpanReading.mask(.type)
    private static let transactionKeys = SpanReading.mask(.name, .type, .outcome)
    private static let destinationKeys = SpanReading.mask(.outcome, .targetType, .targetName, .destinationResource)

    /// The resource attributes of the sets, made once per resource entry.
    struct Resources {
        let common: MetricRecord.Resource
        let transaction: MetricRecord.Resource
    }

    func resources(_ resource: [KeyValue]) -> Resources {
        let common = commonResource(resource)
        let more = Self.transactionResourceKeys.filter { key in !common.contains { $0.key == key } }
        return Resources(common: MetricRecord.Resource(common), transaction: MetricRecord.Resource(Self.copy(more, from: resource) + common))
    }

    /// The resource attributes every set copies, with `agent.name` defaulted.
    func commonResource(_ resource: [KeyValue]) -> [KeyValue] {
        var seen = Set<String>()
        var out = Self.copy((Self.commonResourceKeys + customResourceKeys).filter { seen.insert($0).inserted }, from: resource)
        if !out.contains(where: { $0.key == "agent.name" }) {
            out.append(resource.first { $0.key == "agent.name" } ?? Self.string("agent.name", "unknown"))
        }
        return out
    }

    /// The observations of the span `span` read last, added to `batch` under the resource
    /// numbered `resource`. The span is read as the connector sees it: `transaction.root` and
    /// `span.name` come from the span itself over whatever it carried.
    /// `key` is storage for the series keys, kept from one span to the next.
    // Borrowed: the caller's reading holds arrays, which a copy per span would retain and release.
    func add(_ span: borrowing SpanReading, resource: Int, to batch: inout BatchAggregate, key: inout [UInt8]) {
        let buffer = span.buffer
        let count = span.traceState.isEmpty ? 1
            : Self.adjustedCount(traceState: String(decoding: UnsafeRawBufferPointer(rebasing: buffer[span.traceState]), as: UTF8.self))
        batch.add(.summary, resource: resource, attributes: Self.summaryAttributes) { value, _ in value.int &+= Int64(count) }

        // Go's time.Duration in microseconds: the difference of the two times, truncated.
        let micros = Double(Int64(bitPattern: span.end &- span.start) / 1000)
        let adjusted = UInt64(count)
        // event.success_count: 1 for a success, 0 for any other outcome, nothing without one.
        let success: Double? = span.value(.outcome).map { $0.isString(Self.successBytes) ? 1 : 0 }
        let root = SpanEnrichment.isEmptyID(buffer[span.parentSpanID]) ? 1 : 0
        // Appended through their bytes: an array appended as a sequence is retained for it.
        func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { key.append(contentsOf: $0) } }

        func observe(_ value: inout PointValue, _ successes: inout PointValue?) {
            value.observe(micros, count: adjusted, exponential: true)
            if let success {
                var point = successes.take() ?? PointValue()
                point.observe(success, count: adjusted, exponential: false)
                successes = point
            }
        }
        if span.has(Self.serviceTransactionKeys) {
            key.removeAll(keepingCapacity: true)
            append(Self.rootEntries[root])
            span.append(.type, to: &key)
            append(Self.serviceTransactionName)
            span.appendCustom(to: &key, skipping: customAlready.serviceTransaction)
            batch.add(.serviceTransaction, resource: resource, attributes: key, observe)
        }
        if span.has(Self.transactionKeys) {
            key.removeAll(keepingCapacity: true)
            append(Self.rootEntries[root])
            span.append(.name, to: &key)
            span.append(.type, to: &key)
            span.append(.outcome, to: &key)
            append(Self.transactionName)
            span.appendCustom(to: &key, skipping: customAlready.transaction)
            span.append(.result, to: &key)
            batch.add(.transaction, resource: resource, attributes: key, observe)
        }
        if span.has(Self.destinationKeys) {
            key.removeAll(keepingCapacity: true)
            Self.spanNameKey.withUnsafeBytes { SeriesKey.append(key: $0, string: UnsafeRawBufferPointer(rebasing: buffer[span.name]), to: &key) }
            span.append(.outcome, to: &key)
            span.append(.targetType, to: &key)
            span.append(.targetName, to: &key)
            span.append(.destinationResource, to: &key)
            append(Self.destinationName)
            span.appendCustom(to: &key, skipping: customAlready.destination)
            let sum = (span.number(.compositeSum) ?? micros) * count
            let calls = Int64((span.number(.compositeCount) ?? 1) * count)
            batch.add(.destination, resource: resource, attributes: key) { value, _ in
                value.double += sum
                value.int &+= calls
            }
        }
    }

    /// How many spans a sampled span stands for, from its tracestate's threshold (`th`) only;
    /// 1 without one.
    static func adjustedCount(traceState: String) -> Double {
        traceState.isEmpty ? 1 : RepresentativeCount.of(traceState: traceState, readsP: false)
    }

    private static func copy(_ keys: [String], from resource: [KeyValue]) -> [KeyValue] {
        keys.compactMap { key in resource.first { $0.key == key } }
    }

    static func string(_ key: String, _ value: String) -> KeyValue { .with { $0.key = key; $0.value.stringValue = value } }
    static func bool(_ key: String, _ value: Bool) -> KeyValue { .with { $0.key = key; $0.value.boolValue = value } }

    static func hints(_ hint: String) -> KeyValue {
        .with { $0.key = "elasticsearch.mapping.hints"; $0.value.arrayValue.values = [.with { $0.stringValue = hint }] }
    }
}

