import OTLP

/// Metric records aggregated into windows of each interval on the collector's clock: a window of
/// interval I holds what arrived in [end − I, end) and is harvested once the clock passes `end`.
/// Delta sums add up; histograms add count and sum (and their buckets); exponential histograms
/// merge, downscaled to at most 160 buckets. Each data point carries the time of the last record
/// merged into it.
///
/// Cardinality limits apply per window: resources past the limit go to one resource
/// `service.name: _other, overflow: resource`; metrics and data points past theirs are dropped
/// and counted, and the count is reported as `_overflow_metric` / `_overflow_datapoints`.
struct IntervalAggregation {
    struct Limits {
        var resources = 0
        var metrics = 0
        var datapoints = 0
    }

    /// A data point: its attributes are its series key, decoded when the window is exported.
    private struct Point {
        var value: PointValue
        var time: UInt64
    }

    private struct Series {
        var points: [SeriesKey: Point] = [:]
        var order: [SeriesKey] = []
    }

    private struct ResourceWindow {
        let attributes: [KeyValue]
        var metrics: [MetricRecord.Metric: Series] = [:]
        var order: [MetricRecord.Metric] = []
        /// The distinct metrics and series left out, by hash (Elastic estimates the same count).
        var overflowedMetrics: Set<Int> = []
        var overflowedPoints: Set<Int> = []
        var lastTime: UInt64 = 0
    }

    private struct Window {
        var resources: [SeriesKey: ResourceWindow] = [:]
        var order: [SeriesKey] = []
    }

    /// A window ready to export: its interval, end, metadata partition and contents.
    struct Harvest {
        let interval: Int64
        let end: UInt64
        let partition: [String: [String]]
        let request: ExportMetricsServiceRequest
        let dropped: Int
    }

    static let overflowResource = MetricRecord.Resource([APMMetricSets.string("overflow", "resource"), APMMetricSets.string("service.name", "_other")])
    static let scopeName = "github.com/open-telemetry/opentelemetry-collector-contrib/connector/signaltometricsconnector"

    let intervals: [Int64]
    let limits: Limits
    /// Per interval: windows by (end, partition).
    private var windows: [[WindowKey: Window]]

    private struct WindowKey: Hashable {
        let end: UInt64
        let partition: [String: [String]]
    }

    init(intervals: [Int64], limits: Limits) {
        self.intervals = intervals
        self.limits = limits
        windows = Array(repeating: [:], count: intervals.count)
    }

    var isEmpty: Bool { windows.allSatisfy(\.isEmpty) }

    /// Adds the records, received at `now` (ns since the epoch), to every interval's window.
    /// Windows, resources, series and points change in place: a copy of a window's tables per
    /// record would make each record cost as much as the window holds.
    mutating func add(_ records: [MetricRecord], at now: UInt64, partition: [String: [String]]) {
        for (slot, interval) in intervals.enumerated() {
            let length = UInt64(interval)
            let key = WindowKey(end: (now / length + 1) * length, partition: partition)
            Self.modify(&windows[slot][key, default: Window()]) { window in
                for record in records { Self.add(record, at: now, into: &window, limits: limits) }
            }
        }
    }

    // Each table is looked up once per record where the entry exists, which is the usual case;
    // an entry's value is changed in place through its index.
    private static func add(_ record: MetricRecord, at now: UInt64, into window: inout Window, limits: Limits) {
        var resource = record.resource
        if let known = window.resources.index(forKey: resource.key) {
            return add(record, at: now, into: &window.resources.values[known], limits: limits)
        }
        if limits.resources > 0, window.order.count >= limits.resources {
            resource = overflowResource
            if let known = window.resources.index(forKey: resource.key) {
                return add(record, at: now, into: &window.resources.values[known], limits: limits)
            }
        }
        var fresh = ResourceWindow(attributes: sorted(resource.values))
        add(record, at: now, into: &fresh, limits: limits)
        window.resources[resource.key] = fresh
        window.order.append(resource.key)
    }

    private static func add(_ record: MetricRecord, at now: UInt64, into resource: inout ResourceWindow, limits: Limits) {
        resource.lastTime = now
        let metric = record.metric
        if let known = resource.metrics.index(forKey: metric) {
            if !update(&resource.metrics.values[known], record: record, at: now, limit: limits.datapoints) {
                resource.overflowedPoints.insert(overflowHash(metric, record.attributes))
            }
            return
        }
        if limits.metrics > 0, resource.order.count >= limits.metrics {
            resource.overflowedMetrics.insert(metric.id)
            return
        }
        var series = Series()
        _ = update(&series, record: record, at: now, limit: limits.datapoints)
        resource.metrics[metric] = series
        resource.order.append(metric)
    }

    private static func overflowHash(_ metric: MetricRecord.Metric, _ key: SeriesKey) -> Int {
        var hasher = Hasher()
        hasher.combine(metric.id)
        hasher.combine(key)
        return hasher.finalize()
    }

    /// The record merged into its point of `series`, or added as a new point; false when the
    /// point is new and the series is at `limit` points (0: none).
    private static func update(_ series: inout Series, record: MetricRecord, at now: UInt64, limit: Int) -> Bool {
        let key = record.attributes
        if let known = series.points.index(forKey: key) {
            series.points.values[known].time = now
            series.points.values[known].value.merge(record.value)
            return true
        }
        if limit > 0, series.order.count >= limit { return false }
        series.order.append(key)
        series.points[key] = Point(value: record.value, time: now)
        return true
    }

    private static func modify<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }

    /// The windows that ended by `now` (all of them with `everything`), removed.
    mutating func harvest(now: UInt64, everything: Bool = false) -> [Harvest] {
        var out: [Harvest] = []
        for (slot, interval) in intervals.enumerated() {
            let due = windows[slot].keys.filter { everything || $0.end <= now }.sorted { $0.end < $1.end }
            for key in due {
                guard let window = windows[slot].removeValue(forKey: key) else { continue }
                let (request, dropped) = Self.request(window, interval: interval)
                out.append(Harvest(interval: interval, end: key.end, partition: key.partition, request: request, dropped: dropped))
            }
        }
        return out
    }

    private static func request(_ window: Window, interval: Int64) -> (ExportMetricsServiceRequest, Int) {
        let label = "\(interval / 60_000_000_000)m"
        let intervalAttributes = [APMMetricSets.string("metricset.interval", label), APMMetricSets.string("processor.event", "metric")]
        var request = ExportMetricsServiceRequest()
        var dropped = 0
        for resourceKey in window.order {
            guard let resource = window.resources[resourceKey] else { continue }
            var metrics: [Metric] = []
            for identity in resource.order {
                guard let series = resource.metrics[identity] else { continue }
                var metric = Metric()
                metric.name = identity.name
                metric.description_p = identity.description
                metric.unit = identity.unit
                let points = series.order.compactMap { key in series.points[key].map { (key.attributes, $0) } }
                func attributes(_ base: [KeyValue]) -> [KeyValue] {
                    let name = base.first { $0.key == "metricset.name" }?.value.stringValue
                    let dataset = APMMetricSets.string("data_stream.dataset", "\(name ?? "<nil>").\(label)")
                    return sorted(base + intervalAttributes + [dataset])
                }
                switch identity.kind {
                case .intSum, .doubleSum:
                    metric.sum.aggregationTemporality = .delta
                    metric.sum.dataPoints = points.map { base, point in
                        .with {
                            $0.attributes = attributes(base)
                            $0.timeUnixNano = point.time
                            if identity.kind == .intSum { $0.asInt = point.value.int } else { $0.asDouble = point.value.double }
                        }
                    }
                case .histogram:
                    metric.histogram.aggregationTemporality = .delta
                    metric.histogram.dataPoints = points.map { base, point in
                        .with {
                            $0.attributes = attributes(base)
                            $0.timeUnixNano = point.time
                            $0.count = point.value.count
                            $0.sum = point.value.sum
                            $0.explicitBounds = [1]
                            $0.bucketCounts = [point.value.firstBucket, point.value.count - point.value.firstBucket]
                        }
                    }
                case .exponentialHistogram:
                    metric.exponentialHistogram.aggregationTemporality = .delta
                    metric.exponentialHistogram.dataPoints = points.map { base, point in
                        var data = (point.value.exponential ?? ExponentialHistogramState()).dataPoint
                        data.attributes = attributes(base)
                        data.timeUnixNano = point.time
                        return data
                    }
                }
                metrics.append(metric)
            }
            for (name, kind, count) in [("_overflow_metric", "metric", resource.overflowedMetrics.count),
                                        ("_overflow_datapoints", "datapoint", resource.overflowedPoints.count)] where count > 0 {
                dropped += count
                var metric = Metric()
                metric.name = name
                metric.sum.aggregationTemporality = .delta
                metric.sum.dataPoints = [.with {
                    $0.attributes = sorted([APMMetricSets.string("overflow", kind), APMMetricSets.string("data_stream.dataset", "<nil>.\(label)")]
                                           + intervalAttributes)
                    $0.timeUnixNano = resource.lastTime
                    $0.asInt = Int64(count)
                }]
                metrics.append(metric)
            }
            request.resourceMetrics.append(.with {
                $0.resource.attributes = resource.attributes
                $0.scopeMetrics = [.with { $0.scope.name = scopeName; $0.metrics = metrics }]
            })
        }
        return (request, dropped)
    }

    static func sorted(_ attributes: [KeyValue]) -> [KeyValue] {
        attributes.sorted { $0.key < $1.key }
    }
}
