import Foundation
import OTLP

/// One observation for the aggregation: into which resource, metric and series it goes, and
/// what it adds.
struct MetricRecord {
    enum Kind: Hashable {
        case intSum, doubleSum, histogram, exponentialHistogram
    }

    struct Metric: Hashable {
        let name: String
        let description: String
        let unit: String
        let kind: Kind
    }

    enum Value {
        case int(Int64)
        case double(Double)
        /// A value observed `count` times.
        case observation(Double, count: UInt64)
    }

    var resource: [KeyValue]
    var metric: Metric
    var attributes: [KeyValue]
    var value: Value
}

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

    static let serviceSummary = MetricRecord.Metric(name: "service_summary", description: "", unit: "", kind: .intSum)
    static func durationHistogram(_ set: String) -> MetricRecord.Metric {
        .init(name: "transaction.duration.histogram", description: "APM \(set) aggregated metrics as histogram", unit: "us", kind: .exponentialHistogram)
    }
    static func durationSummary(_ set: String) -> MetricRecord.Metric {
        .init(name: "transaction.duration.summary", description: "APM \(set) aggregated metrics as summary", unit: "us", kind: .histogram)
    }
    static func successCount(_ set: String) -> MetricRecord.Metric {
        .init(name: "event.success_count", description: "Success count as a metric for \(set)", unit: "us", kind: .histogram)
    }
    static let responseTimeSum = MetricRecord.Metric(name: "span.destination.service.response_time.sum.us",
                                                     description: "APM span destination metrics", unit: "us", kind: .doubleSum)
    static let responseTimeCount = MetricRecord.Metric(name: "span.destination.service.response_time.count",
                                                       description: "APM span destination metrics", unit: "", kind: .intSum)

    /// The resource attributes every set copies, with `agent.name` defaulted.
    func commonResource(_ resource: [KeyValue]) -> [KeyValue] {
        var out = Self.copy(Self.commonResourceKeys + customResourceKeys, from: resource)
        if !out.contains(where: { $0.key == "agent.name" }) {
            out.append(resource.first { $0.key == "agent.name" } ?? Self.string("agent.name", "unknown"))
        }
        return out
    }

    /// A span's records. The span is read as the connector sees it: `transaction.root` and
    /// `span.name` set from the span itself over whatever it carried.
    func records(span: Span, resource: [KeyValue], into out: inout [MetricRecord]) {
        var attributes: [String: AnyValue] = [:]
        for entry in span.attributes where attributes[entry.key] == nil { attributes[entry.key] = entry.value }
        attributes["transaction.root"] = .with { $0.boolValue = SpanEnrichment.isEmptyID(span.parentSpanID) }
        attributes["span.name"] = .with { $0.stringValue = span.name }
        let count = Self.adjustedCount(traceState: span.traceState)
        let common = commonResource(resource)

        out.append(MetricRecord(resource: common, metric: Self.serviceSummary,
                                attributes: [Self.string("metricset.name", "service_summary")], value: .int(Int64(count))))

        // Go's time.Duration in microseconds: the difference of the two times, truncated.
        let micros = Double(Int64(bitPattern: span.endTimeUnixNano &- span.startTimeUnixNano) / 1000)
        let adjusted = UInt64(count)
        let custom = customSpanKeys.compactMap { key in attributes[key].map { value in KeyValue.with { $0.key = key; $0.value = value } } }
        let success: Double? = attributes["event.outcome"].map { $0.stringValue == "success" ? 1 : 0 }

        if let serviceTransaction = Self.required(["transaction.root", "transaction.type"], attributes) {
            let series = serviceTransaction + [Self.string("metricset.name", "service_transaction")] + custom
            appendTransactionMetrics("service transaction", resource: common, series: series, micros: micros, count: adjusted, success: success, into: &out)
        }
        if let transaction = Self.required(["transaction.root", "transaction.name", "transaction.type", "event.outcome"], attributes) {
            var series = transaction + [Self.string("metricset.name", "transaction")] + custom
            if let result = attributes["transaction.result"] { series.append(.with { $0.key = "transaction.result"; $0.value = result }) }
            let transactionResource = Self.copy(Self.transactionResourceKeys, from: resource) + common
            appendTransactionMetrics("transaction", resource: transactionResource, series: series, micros: micros, count: adjusted, success: success, into: &out)
        }
        if let destination = Self.required(["span.name", "event.outcome", "service.target.type", "service.target.name",
                                            "span.destination.service.resource"], attributes) {
            let series = destination + [Self.string("metricset.name", "service_destination")] + custom
            let sum = Self.number(attributes["span.composite.sum.us"]) ?? micros
            let calls = Self.number(attributes["span.composite.count"]) ?? 1
            out.append(MetricRecord(resource: common, metric: Self.responseTimeSum, attributes: series, value: .double(sum * count)))
            out.append(MetricRecord(resource: common, metric: Self.responseTimeCount, attributes: series, value: .int(Int64(calls * count))))
        }
    }

    private func appendTransactionMetrics(_ set: String, resource: [KeyValue], series: [KeyValue], micros: Double, count: UInt64,
                                          success: Double?, into out: inout [MetricRecord]) {
        out.append(MetricRecord(resource: resource, metric: Self.durationHistogram(set),
                                attributes: series + [Self.hints("_doc_count")], value: .observation(micros, count: count)))
        out.append(MetricRecord(resource: resource, metric: Self.durationSummary(set),
                                attributes: series + [Self.hints("aggregate_metric_double")], value: .observation(micros, count: count)))
        if let success {
            out.append(MetricRecord(resource: resource, metric: Self.successCount(set),
                                    attributes: series + [Self.hints("aggregate_metric_double")], value: .observation(success, count: count)))
        }
    }

    /// A log record or a metric data point: one `service_summary` count.
    func summaryRecord(resource: [KeyValue]) -> MetricRecord {
        MetricRecord(resource: commonResource(resource), metric: Self.serviceSummary,
                     attributes: [Self.string("metricset.name", "service_summary")], value: .int(1))
    }

    /// How many spans a sampled span stands for, from its tracestate's threshold (`th`) only;
    /// 1 without one.
    static func adjustedCount(traceState: String) -> Double {
        traceState.isEmpty ? 1 : RepresentativeCount.of(traceState: traceState, readsP: false)
    }

    private static func required(_ keys: [String], _ attributes: [String: AnyValue]) -> [KeyValue]? {
        var out: [KeyValue] = []
        for key in keys {
            guard let value = attributes[key] else { return nil }
            out.append(.with { $0.key = key; $0.value = value })
        }
        return out
    }

    private static func copy(_ keys: [String], from resource: [KeyValue]) -> [KeyValue] {
        keys.compactMap { key in resource.first { $0.key == key } }
    }

    private static func number(_ value: AnyValue?) -> Double? {
        switch value?.value {
        case .intValue(let number)?: Double(number)
        case .doubleValue(let number)?: number
        default: nil
        }
    }

    static func string(_ key: String, _ value: String) -> KeyValue { .with { $0.key = key; $0.value.stringValue = value } }

    static func hints(_ hint: String) -> KeyValue {
        .with { $0.key = "elasticsearch.mapping.hints"; $0.value.arrayValue.values = [.with { $0.stringValue = hint }] }
    }
}
