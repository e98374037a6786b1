import OTLP

/// What one batch adds, summed per series before it goes into the windows: a batch's spans
/// mostly repeat a few services and transactions, and each series then costs one merge per
/// interval instead of one per span and interval.
///
/// A series here is one set's attributes under one resource; a transaction set's series stands
/// for its three metrics (the duration as exponential and as [1]-bounded histogram, and the
/// success count), a destination's for its two.
struct BatchAggregate {
    enum MetricSet {
        case summary, serviceTransaction, transaction, destination
    }

    private struct Key: Hashable {
        let resource: Int
        let set: MetricSet
        let attributes: SeriesKey
    }

    private struct Series {
        let key: Key
        var value = PointValue()
        /// `event.success_count` observations; none when no span had an outcome.
        var success: PointValue?
    }

    /// The resource entries of the batch, numbered as `add` refers to them.
    private(set) var resources: [APMMetricSets.Resources] = []
    private var index: [Key: Int] = [:]
    private var series: [Series] = []

    var isEmpty: Bool { series.isEmpty }

    /// Numbers a resource entry for the `add`s that follow.
    mutating func addResource(_ resource: APMMetricSets.Resources) -> Int {
        resources.append(resource)
        return resources.count - 1
    }

    mutating func add(_ set: MetricSet, resource: Int, attributes: SeriesKey, _ update: (inout PointValue, inout PointValue?) -> Void) {
        let key = Key(resource: resource, set: set, attributes: attributes)
        let slot: Int
        if let existing = index[key] {
            slot = existing
        } else {
            slot = series.count
            index[key] = slot
            series.append(Series(key: key))
        }
        func apply(_ entry: inout Series) { update(&entry.value, &entry.success) }
        apply(&series[slot])
    }

    /// The records of every series, in the order they were first seen.
    func records() -> [MetricRecord] {
        var out: [MetricRecord] = []
        out.reserveCapacity(series.count * 3)
        for entry in series {
            let resources = resources[entry.key.resource]
            let attributes = entry.key.attributes
            switch entry.key.set {
            case .summary:
                out.append(MetricRecord(resource: resources.common, metric: APMMetricSets.serviceSummary, attributes: attributes, value: entry.value))
            case .serviceTransaction, .transaction:
                let (metrics, resource) = entry.key.set == .serviceTransaction
                    ? (APMMetricSets.serviceTransactionMetrics, resources.common) : (APMMetricSets.transactionMetrics, resources.transaction)
                let aggregate = attributes.adding(APMMetricSets.aggregateHint)
                out.append(MetricRecord(resource: resource, metric: metrics.histogram, attributes: attributes.adding(APMMetricSets.docCountHint),
                                        value: entry.value))
                out.append(MetricRecord(resource: resource, metric: metrics.summary, attributes: aggregate, value: entry.value.withoutBuckets))
                if let success = entry.success {
                    out.append(MetricRecord(resource: resource, metric: metrics.success, attributes: aggregate, value: success))
                }
            case .destination:
                out.append(MetricRecord(resource: resources.common, metric: APMMetricSets.responseTimeSum, attributes: attributes,
                                        value: PointValue(double: entry.value.double)))
                out.append(MetricRecord(resource: resources.common, metric: APMMetricSets.responseTimeCount, attributes: attributes,
                                        value: PointValue(int: entry.value.int)))
            }
        }
        return out
    }
}
