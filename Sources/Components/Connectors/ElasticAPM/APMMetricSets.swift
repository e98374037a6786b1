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
    static let summaryAttributes = SeriesKey([string("metricset.name", "service_summary")])
    static let docCountHint = SeriesKey([hints("_doc_count")])
    static let aggregateHint = SeriesKey([hints("aggregate_metric_double")])
    /// The `metricset.name` entries of the span sets, as key bytes.
    static let serviceTransactionName = SeriesKey([string("metricset.name", "service_transaction")]).bytes
    static let transactionName = SeriesKey([string("metricset.name", "transaction")]).bytes
    static let destinationName = SeriesKey([string("metricset.name", "service_destination")]).bytes
    static let rootEntries = [SeriesKey([bool("transaction.root", false)]).bytes, SeriesKey([bool("transaction.root", true)]).bytes]
    static let spanNameKey = Array("span.name".utf8)

    /// The resource attributes of the sets, made once per resource entry.
    struct Resources {
        let common: MetricRecord.Resource
        let transaction: MetricRecord.Resource
    }

    func resources(_ resource: [KeyValue]) -> Resources {
        let common = commonResource(resource)
        return Resources(common: MetricRecord.Resource(common),
                         transaction: MetricRecord.Resource(Self.copy(Self.transactionResourceKeys, from: resource) + common))
    }

    /// The resource attributes every set copies, with `agent.name` defaulted.
    func commonResource(_ resource: [KeyValue]) -> [KeyValue] {
        var out = Self.copy(Self.commonResourceKeys + customResourceKeys, from: resource)
        if !out.contains(where: { $0.key == "agent.name" }) {
            out.append(resource.first { $0.key == "agent.name" } ?? Self.string("agent.name", "unknown"))
        }
        return out
    }

    /// An encoded span's observations, added to `batch` under the resource numbered `resource`.
    /// The span is read as the connector sees it: `transaction.root` and `span.name` come from
    /// the span itself over whatever it carried.
    func add(span: WireFields, resource: Int, to batch: inout BatchAggregate, attributes: inout SpanAttributes) throws(OTLPDecodingError) {
        attributes.read(span)
        let count = span.has(3) ? Self.adjustedCount(traceState: span.string(3)) : 1
        batch.add(.summary, resource: resource, attributes: Self.summaryAttributes) { value, _ in value.int &+= Int64(count) }

        // Go's time.Duration in microseconds: the difference of the two times, truncated.
        let micros = Double(Int64(bitPattern: span.uint(8) &- span.uint(7)) / 1000)
        let adjusted = UInt64(count)
        // event.success_count: 1 for a success, 0 for any other outcome, nothing without one.
        let success: Double? = attributes.value(.outcome).map { $0.isString(Self.successBytes) ? 1 : 0 }
        let root = Self.rootEntries[SpanEnrichment.isEmptyID(span.bytes(4)) ? 1 : 0]

        func observe(_ value: inout PointValue, _ successes: inout PointValue?) {
            value.observe(micros, count: adjusted, exponential: true)
            if let success {
                if successes == nil { successes = PointValue() }
                successes?.observe(success, count: adjusted, exponential: false)
            }
        }
        var key: [UInt8] = []
        if attributes.has([.type]) {
            key.reserveCapacity(192)
            key += root
            attributes.append(.type, to: &key)
            key += Self.serviceTransactionName
            attributes.appendCustom(to: &key)
            batch.add(.serviceTransaction, resource: resource, attributes: SeriesKey(key), observe)
        }
        if attributes.has([.name, .type, .outcome]) {
            key.removeAll(keepingCapacity: true)
            key += root
            attributes.append(.name, to: &key)
            attributes.append(.type, to: &key)
            attributes.append(.outcome, to: &key)
            key += Self.transactionName
            attributes.appendCustom(to: &key)
            attributes.append(.result, to: &key)
            batch.add(.transaction, resource: resource, attributes: SeriesKey(key), observe)
        }
        if attributes.has([.outcome, .targetType, .targetName, .destinationResource]) {
            key.removeAll(keepingCapacity: true)
            Self.spanNameKey.withUnsafeBytes { SeriesKey.append(key: $0, string: span.bytes(5), to: &key) }
            attributes.append(.outcome, to: &key)
            attributes.append(.targetType, to: &key)
            attributes.append(.targetName, to: &key)
            attributes.append(.destinationResource, to: &key)
            key += Self.destinationName
            attributes.appendCustom(to: &key)
            let sum = (attributes.number(.compositeSum) ?? micros) * count
            let calls = Int64((attributes.number(.compositeCount) ?? 1) * count)
            batch.add(.destination, resource: resource, attributes: SeriesKey(key)) { value, _ in
                value.double += sum
                value.int &+= calls
            }
        }
    }

    static let successBytes = Array("success".utf8)

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

