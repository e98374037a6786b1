import Foundation
import OTLP

extension OtelDocumentEncoder {
    /// The data points of a scope that share target, attributes, timestamps and unit: one
    /// time-series document with a field per metric under `metrics`.
    private struct MetricDocument {
        var route: Route
        var time: UInt64
        var start: UInt64
        var unit: String
        var attributes: [UInt8]
        var values: [(name: String, json: [UInt8], template: String)] = []
        /// The `_doc_count` a point's `_doc_count` hint asks for (the last such point's).
        var docCount: UInt64?
    }

    mutating func encode(_ request: ExportMetricsServiceRequest) {
        for resourceMetrics in request.resourceMetrics {
            let resource = resourceJSON(resourceMetrics.resource, schemaURL: resourceMetrics.schemaURL)
            for scopeMetrics in resourceMetrics.scopeMetrics {
                let scope = scopeJSON(scopeMetrics.scope, schemaURL: scopeMetrics.schemaURL)
                let defaults = router.scopeDefaults(scope: scopeMetrics.scope, resource: resourceMetrics.resource.attributes)
                var documents: [MetricDocument] = []
                var byKey: [[UInt8]: Int] = [:]
                for metric in scopeMetrics.metrics {
                    for (point, value, template) in points(of: metric) {
                        let route = router.route(.metrics, record: point.attributes, defaults: defaults)
                        scratch.reset()
                        scratch.beginObject()
                        Self.attributes("attributes", point.attributes, into: &scratch, stringifyMaps: true)
                        scratch.endObject()
                        var key = Array(route.index.utf8)
                        key.append(0)
                        key += scratch.bytes
                        withUnsafeBytes(of: point.time) { key += $0 }
                        withUnsafeBytes(of: point.start) { key += $0 }
                        key += metric.unit.utf8
                        let position: Int
                        if let existing = byKey[key] {
                            position = existing
                        } else {
                            position = documents.count
                            byKey[key] = position
                            documents.append(MetricDocument(route: route, time: point.time, start: point.start, unit: metric.unit, attributes: scratch.bytes))
                        }
                        if documents[position].values.contains(where: { $0.name == metric.name }) {
                            drop(reason: "duplicate_metric", "metric \(metric.name) appears twice for the same time series and timestamp; the second point is not indexed")
                            continue
                        }
                        documents[position].values.append((metric.name, value, template))
                        if let count = point.docCount { documents[position].docCount = count }
                    }
                }
                for document in documents { write(document, resource: resource, scope: scope) }
            }
        }
    }

    private struct PointIdentity {
        var attributes: [KeyValue]
        var time: UInt64
        var start: UInt64
        /// The point's count when its hints ask for it as the document's `_doc_count`.
        var docCount: UInt64?

        init(attributes: [KeyValue], time: UInt64, start: UInt64, count: UInt64, hints: MappingHints) {
            self.attributes = attributes
            self.time = time
            self.start = start
            docCount = hints.docCount ? count : nil
        }
    }

    /// The `elasticsearch.mapping.hints` of a data point: a list of strings (anything else holds
    /// none), as the Go exporter reads it.
    struct MappingHints {
        var aggregateMetricDouble = false
        var docCount = false

        init(_ attributes: [KeyValue]) {
            guard let entry = attributes.first(where: { $0.key == RoutingAttribute.mappingHints }),
                  case .arrayValue(let list)? = entry.value.value else { return }
            for value in list.values {
                switch value.stringOrEmpty {
                case "aggregate_metric_double": aggregateMetricDouble = true
                case "_doc_count": docCount = true
                default: break
                }
            }
        }
    }

    /// A histogram point of either kind: `{sum, value_count}` under the `summary` template when
    /// its hints ask for `aggregate_metric_double`, else its `buckets` as counts and values.
    private static func histogramValue(_ attributes: [KeyValue], time: UInt64, start: UInt64, count: UInt64, sum: Double,
                                       buckets: () -> ([UInt64], [Double])) -> (PointIdentity, [UInt8], String) {
        let hints = MappingHints(attributes)
        let identity = PointIdentity(attributes: attributes, time: time, start: start, count: count, hints: hints)
        if hints.aggregateMetricDouble { return (identity, aggregateMetricDoubleJSON(sum: sum, count: count), "summary") }
        let (counts, values) = buckets()
        return (identity, histogramJSON(counts: counts, values: values), "histogram")
    }

    /// A histogram's value as `aggregate_metric_double` holds it.
    static func aggregateMetricDoubleJSON(sum: Double, count: UInt64) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("sum"); json.double(sum)
        json.key("value_count"); json.uint(count)
        json.endObject()
        return json.bytes
    }

    /// Each data point's JSON value and dynamic template; points Elasticsearch cannot hold are
    /// counted as dropped.
    private mutating func points(of metric: Metric) -> [(PointIdentity, [UInt8], String)] {
        var points: [(PointIdentity, [UInt8], String)] = []
        let add = { (identity: PointIdentity, json: [UInt8], template: String) in points.append((identity, json, template)) }
        switch metric.data {
        case .gauge(let gauge):
            for point in gauge.dataPoints { if let value = number(point, metric: metric, counter: false) { add(value.0, value.1, value.2) } }
        case .sum(let sum):
            let counter = sum.isMonotonic && sum.aggregationTemporality == .cumulative
            for point in sum.dataPoints { if let value = number(point, metric: metric, counter: counter) { add(value.0, value.1, value.2) } }
        case .histogram(let histogram):
            guard histogram.aggregationTemporality != .cumulative else {
                drop(histogram.dataPoints.count, reason: "cumulative_histogram",
                     "histogram \(metric.name) is cumulative; Elasticsearch histograms need delta temporality (use the cumulativetodelta processor)")
                return []
            }
            for point in histogram.dataPoints {
                let value = Self.histogramValue(point.attributes, time: point.timeUnixNano, start: point.startTimeUnixNano, count: point.count, sum: point.sum) {
                    Self.histogramBuckets(counts: point.bucketCounts, bounds: point.explicitBounds, sum: point.sum, count: point.count)
                }
                add(value.0, value.1, value.2)
            }
        case .exponentialHistogram(let histogram):
            guard histogram.aggregationTemporality != .cumulative else {
                drop(histogram.dataPoints.count, reason: "cumulative_histogram",
                     "exponential histogram \(metric.name) is cumulative; Elasticsearch histograms need delta temporality (use the cumulativetodelta processor)")
                return []
            }
            for point in histogram.dataPoints {
                let value = Self.histogramValue(point.attributes, time: point.timeUnixNano, start: point.startTimeUnixNano, count: point.count,
                                                sum: point.sum) { Self.exponentialBuckets(point) }
                add(value.0, value.1, value.2)
            }
        case .summary(let summary):
            for point in summary.dataPoints {
                add(PointIdentity(attributes: point.attributes, time: point.timeUnixNano, start: point.startTimeUnixNano,
                                  count: point.count, hints: MappingHints(point.attributes)),
                    Self.aggregateMetricDoubleJSON(sum: point.sum, count: point.count), "summary")
            }
        case nil:
            break
        }
        return points
    }

    private mutating func number(_ point: NumberDataPoint, metric: Metric, counter: Bool) -> (PointIdentity, [UInt8], String)? {
        var json = JSONWriter()
        let kind: String
        switch point.value {
        case .asInt(let value):
            json.int(value)
            kind = "long"
        case .asDouble(let value):
            guard value.isFinite else {
                drop(reason: "not_a_number", "metric \(metric.name) has a NaN or infinite value, which Elasticsearch cannot index")
                return nil
            }
            json.double(value)
            kind = "double"
        case nil:
            drop(reason: "no_value", "a data point of \(metric.name) has no value")
            return nil
        }
        // A number point stands for one document, as Go counts it.
        return (PointIdentity(attributes: point.attributes, time: point.timeUnixNano, start: point.startTimeUnixNano,
                              count: 1, hints: MappingHints(point.attributes)),
                json.bytes, (counter ? "counter_" : "gauge_") + kind)
    }

    private mutating func write(_ document: MetricDocument, resource: [UInt8], scope: [UInt8]) {
        writer.reset()
        writer.beginObject()
        writer.key("@timestamp"); writer.uint(document.time / 1_000_000)
        if document.start != 0 { writer.key("start_timestamp"); writer.uint(document.start / 1_000_000) }
        text("unit", document.unit)
        dataStream(document.route)
        if document.attributes.count > 2 {
            // The grouping key holds `{"attributes":{…}}`; the document wants the inner member.
            writer.raw(document.attributes.dropFirst().dropLast())
        }
        resourceAndScope(resource, scope)
        writer.key("metrics")
        writer.beginObject()
        for value in document.values {
            writer.dynamicKey(value.name)
            writer.raw(value.json)
        }
        writer.endObject()
        if let count = document.docCount { writer.key("_doc_count"); writer.uint(count) }
        // A time series dimension, so documents with different metric sets never collide.
        let names = document.values.map(\.name).sorted().joined(separator: "\u{0}")
        writer.key("_metric_names_hash")
        writer.string(String(XXHash64.hash(Array(names.utf8)), radix: 16))
        writer.endObject()
        let templates = options.dynamicTemplates ? document.values.map { ("metrics.\($0.name)", $0.template) } : []
        body.create(document: writer, route: document.route, contentID: options.metricContentIDs, dynamicTemplates: templates)
    }

    static func histogramJSON(counts: [UInt64], values: [Double]) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("counts"); json.beginArray(); for count in counts { json.uint(count) }; json.endArray()
        json.key("values"); json.beginArray(); for value in values { json.double(value) }; json.endArray()
        json.endObject()
        return json.bytes
    }

    /// Explicit buckets as (count, representative value) pairs: the midpoint of each bounded
    /// bucket, half the first bound for the first, the last bound for the overflow bucket; empty
    /// buckets left out. Without bounds, the mean stands for every value.
    static func histogramBuckets(counts: [UInt64], bounds: [Double], sum: Double, count: UInt64) -> ([UInt64], [Double]) {
        if bounds.isEmpty {
            guard count > 0 else { return ([], []) }
            return ([count], [sum / Double(count)])
        }
        var outCounts: [UInt64] = [], outValues: [Double] = []
        for (position, bucketCount) in counts.enumerated() where bucketCount > 0 {
            let value: Double
            if position == 0 {
                value = bounds[0] > 0 ? bounds[0] / 2 : bounds[0]
            } else if position >= bounds.count {
                value = bounds[bounds.count - 1]
            } else {
                value = (bounds[position - 1] + bounds[position]) / 2
            }
            outCounts.append(bucketCount)
            outValues.append(value)
        }
        return (outCounts, outValues)
    }

    /// Exponential buckets as midpoints of `[base^i, base^(i+1))`, negatives mirrored, zero
    /// bucket at 0, in increasing value order as Elasticsearch's histogram type requires.
    static func exponentialBuckets(_ point: Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint) -> ([UInt64], [Double]) {
        let base = pow(2.0, pow(2.0, -Double(point.scale)))
        func midpoint(_ index: Int) -> Double {
            let lower = pow(base, Double(index)), upper = pow(base, Double(index + 1))
            return (lower + upper) / 2
        }
        var pairs: [(Double, UInt64)] = []
        for (offset, count) in point.negative.bucketCounts.enumerated() where count > 0 {
            pairs.append((-midpoint(Int(point.negative.offset) + offset), count))
        }
        if point.zeroCount > 0 { pairs.append((0, point.zeroCount)) }
        for (offset, count) in point.positive.bucketCounts.enumerated() where count > 0 {
            pairs.append((midpoint(Int(point.positive.offset) + offset), count))
        }
        pairs.sort { $0.0 < $1.0 }
        return (pairs.map(\.1), pairs.map(\.0))
    }
}
