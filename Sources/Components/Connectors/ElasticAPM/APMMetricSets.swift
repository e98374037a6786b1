import Foundation
import OTLP

/// One observation for the aggregation: into which resource, metric and series it goes, and
/// what it adds.
struct MetricRecord {
    enum Kind: Hashable {
        case intSum, doubleSum, histogram, exponentialHistogram
    }

    /// One of the connector's metrics; they are few and fixed, so one number tells them apart.
    struct Metric: Hashable {
        let id: Int
        let name: String
        let description: String
        let unit: String
        let kind: Kind

        static func == (a: Metric, b: Metric) -> Bool { a.id == b.id }
        func hash(into hasher: inout Hasher) { hasher.combine(id) }
    }

    /// Attributes with their encoding as a series key (`SeriesKey`), made once per series.
    struct Part {
        let values: [KeyValue]
        let key: SeriesKey

        init(_ values: [KeyValue]) {
            self.values = values
            key = SeriesKey(SeriesKey.encode(values))
        }

        /// This part with another part's attributes after its own.
        func adding(_ other: Part) -> Part {
            Part(values + other.values, key: SeriesKey(key.bytes + other.key.bytes))
        }

        private init(_ values: [KeyValue], key: SeriesKey) {
            self.values = values
            self.key = key
        }
    }

    enum Value {
        case int(Int64)
        case double(Double)
        /// A value observed `count` times.
        case observation(Double, count: UInt64)
    }

    var resource: Part
    var metric: Metric
    var attributes: Part
    var value: Value
}

/// Attributes as bytes that are equal exactly when the attributes are (in the same order): the
/// key of a series in the aggregation. Its hash is taken once, over the bytes at once: an array
/// of bytes hashes element by element, and the aggregation looks a key up several times.
struct SeriesKey: Hashable {
    let bytes: [UInt8]
    private let hash: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        hash = hasher.finalize()
    }

    // Compared as memory: an array of bytes compares element by element.
    static func == (a: SeriesKey, b: SeriesKey) -> Bool {
        a.hash == b.hash && a.bytes.withUnsafeBytes { x in b.bytes.withUnsafeBytes { x.sameBytes(as: $0) } }
    }
    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    static func encode(_ values: [KeyValue]) -> [UInt8] {
        var out: [UInt8] = []
        for value in values { append(value, to: &out) }
        return out
    }

    static func append(_ entry: KeyValue, to out: inout [UInt8]) {
        out.append(contentsOf: entry.key.utf8)
        // 0xFF never occurs in UTF-8, so it ends a key or a string.
        out.append(0xFF)
        switch entry.value.value {
        case .stringValue(let text)?:
            out.append(1)
            out.append(contentsOf: text.utf8)
            out.append(0xFF)
        case .boolValue(let flag)?:
            out.append(flag ? 2 : 3)
        case .intValue(let number)?:
            out.append(4)
            withUnsafeBytes(of: number.littleEndian) { out.append(contentsOf: $0) }
        case .doubleValue(let number)?:
            out.append(5)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        default:
            let bytes = (try? entry.value.serializedBytes() as [UInt8]) ?? []
            out.append(6)
            withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
    }
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
    static let summaryAttributes = MetricRecord.Part([string("metricset.name", "service_summary")])
    static let docCountHint = MetricRecord.Part([hints("_doc_count")])
    static let aggregateHint = MetricRecord.Part([hints("aggregate_metric_double")])

    /// The resource attributes of the sets, made once per resource entry.
    struct Resources {
        let common: MetricRecord.Part
        let transaction: MetricRecord.Part
    }

    func resources(_ resource: [KeyValue]) -> Resources {
        let common = commonResource(resource)
        return Resources(common: MetricRecord.Part(common), transaction: MetricRecord.Part(Self.copy(Self.transactionResourceKeys, from: resource) + common))
    }

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
    func records(span: Span, resources: Resources, into out: inout [MetricRecord]) {
        var attributes = SpanAttributes(span, customKeys: customSpanKeys)
        let count = Self.adjustedCount(traceState: span.traceState)

        out.append(MetricRecord(resource: resources.common, metric: Self.serviceSummary, attributes: Self.summaryAttributes, value: .int(Int64(count))))

        // Go's time.Duration in microseconds: the difference of the two times, truncated.
        let micros = Double(Int64(bitPattern: span.endTimeUnixNano &- span.startTimeUnixNano) / 1000)
        let adjusted = UInt64(count)
        let custom = attributes.custom
        let success: Double? = attributes.value(.outcome).map { $0.stringValue == "success" ? 1 : 0 }

        if let serviceTransaction = attributes.required([.root, .type]) {
            let series = MetricRecord.Part(serviceTransaction + [Self.string("metricset.name", "service_transaction")] + custom)
            appendTransactionMetrics(Self.serviceTransactionMetrics, resource: resources.common, series: series, micros: micros,
                                     count: adjusted, success: success, into: &out)
        }
        if let transaction = attributes.required([.root, .name, .type, .outcome]) {
            var values = transaction + [Self.string("metricset.name", "transaction")] + custom
            if let result = attributes.entry(.result) { values.append(result) }
            appendTransactionMetrics(Self.transactionMetrics, resource: resources.transaction, series: MetricRecord.Part(values), micros: micros,
                                     count: adjusted, success: success, into: &out)
        }
        if let destination = attributes.required([.spanName, .outcome, .targetType, .targetName, .destinationResource]) {
            let series = MetricRecord.Part(destination + [Self.string("metricset.name", "service_destination")] + custom)
            let sum = Self.number(attributes.value(.compositeSum)) ?? micros
            let calls = Self.number(attributes.value(.compositeCount)) ?? 1
            out.append(MetricRecord(resource: resources.common, metric: Self.responseTimeSum, attributes: series, value: .double(sum * count)))
            out.append(MetricRecord(resource: resources.common, metric: Self.responseTimeCount, attributes: series, value: .int(Int64(calls * count))))
        }
    }

    private func appendTransactionMetrics(_ metrics: TransactionMetrics, resource: MetricRecord.Part, series: MetricRecord.Part, micros: Double,
                                          count: UInt64, success: Double?, into out: inout [MetricRecord]) {
        let docCount = series.adding(Self.docCountHint), aggregate = series.adding(Self.aggregateHint)
        out.append(MetricRecord(resource: resource, metric: metrics.histogram, attributes: docCount, value: .observation(micros, count: count)))
        out.append(MetricRecord(resource: resource, metric: metrics.summary, attributes: aggregate, value: .observation(micros, count: count)))
        if let success {
            out.append(MetricRecord(resource: resource, metric: metrics.success, attributes: aggregate, value: .observation(success, count: count)))
        }
    }

    /// A log record or a metric data point: one `service_summary` count.
    func summaryRecord(resources: Resources) -> MetricRecord {
        MetricRecord(resource: resources.common, metric: Self.serviceSummary, attributes: Self.summaryAttributes, value: .int(1))
    }

    /// How many spans a sampled span stands for, from its tracestate's threshold (`th`) only;
    /// 1 without one.
    static func adjustedCount(traceState: String) -> Double {
        traceState.isEmpty ? 1 : RepresentativeCount.of(traceState: traceState, readsP: false)
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
    static func bool(_ key: String, _ value: Bool) -> KeyValue { .with { $0.key = key; $0.value.boolValue = value } }

    static func hints(_ hint: String) -> KeyValue {
        .with { $0.key = "elasticsearch.mapping.hints"; $0.value.arrayValue.values = [.with { $0.stringValue = hint }] }
    }
}

/// The span attributes the metric sets read, found in one pass (the first entry of each key, as
/// a lookup finds it), with `transaction.root` and `span.name` from the span itself.
struct SpanAttributes {
    enum Key: Int, CaseIterable {
        case root, name, type, outcome, result, spanName, targetType, targetName, destinationResource, compositeSum, compositeCount

        var name: String {
            switch self {
            case .root: "transaction.root"
            case .name: "transaction.name"
            case .type: "transaction.type"
            case .outcome: "event.outcome"
            case .result: "transaction.result"
            case .spanName: "span.name"
            case .targetType: "service.target.type"
            case .targetName: "service.target.name"
            case .destinationResource: "span.destination.service.resource"
            case .compositeSum: "span.composite.sum.us"
            case .compositeCount: "span.composite.count"
            }
        }

        static let byName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })
    }

    private var entries = [KeyValue?](repeating: nil, count: Key.allCases.count)
    private(set) var custom: [KeyValue] = []

    init(_ span: Span, customKeys: [String]) {
        for entry in span.attributes {
            if let key = Key.byName[entry.key], entries[key.rawValue] == nil { entries[key.rawValue] = entry }
        }
        entries[Key.root.rawValue] = APMMetricSets.bool("transaction.root", SpanEnrichment.isEmptyID(span.parentSpanID))
        entries[Key.spanName.rawValue] = APMMetricSets.string("span.name", span.name)
        for key in customKeys {
            if let entry = span.attributes.first(where: { $0.key == key }) { custom.append(entry) }
        }
    }

    func entry(_ key: Key) -> KeyValue? { entries[key.rawValue] }
    func value(_ key: Key) -> AnyValue? { entries[key.rawValue]?.value }

    /// The entries of `keys`, or nil when one is missing.
    func required(_ keys: [Key]) -> [KeyValue]? {
        var out: [KeyValue] = []
        out.reserveCapacity(keys.count)
        for key in keys {
            guard let entry = entries[key.rawValue] else { return nil }
            out.append(entry)
        }
        return out
    }
}
