import OTLP

/// What one batch adds, summed per series before it goes into the windows: a batch's spans
/// mostly repeat a few services and transactions, and each series then costs one merge per
/// interval instead of one per span and interval.
///
/// A series here is one set's attributes under one resource; a transaction set's series stands
/// for its three metrics (the duration as exponential and as [1]-bounded histogram, and the
/// success count), a destination's for its two.
struct BatchAggregate {
    enum MetricSet: UInt64 {
        case summary, serviceTransaction, transaction, destination
    }

    private struct Key {
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
    /// The series' indexes in open addressing, probed linearly (-1: free). A series is found
    /// by its key's bytes as the span's reading wrote them: a `SeriesKey` is made only for a new
    /// series (made for every look-up, with a `Dictionary` hashing it again, it was an
    /// allocation, a copy and a SipHash per span and set).
    private var slots: [Int32] = []
    private var series: [Series] = []

    var isEmpty: Bool { series.isEmpty }

    /// Numbers a resource entry for the `add`s that follow.
    mutating func addResource(_ resource: APMMetricSets.Resources) -> Int {
        resources.append(resource)
        return resources.count - 1
    }

    /// Adds to the series of `attributes` (a series key's bytes) under the set and resource.
    mutating func add(_ set: MetricSet, resource: Int, attributes: [UInt8], _ update: (inout PointValue, inout PointValue?) -> Void) {
        let hash = attributes.withUnsafeBytes { SeriesKey.hash($0) }
        let home = Self.home(hash, resource, set)
        let slot: Int
        if let existing = find(home, hash, resource, set, attributes) {
            slot = existing
        } else {
            slot = series.count
            series.append(Series(key: Key(resource: resource, set: set, attributes: SeriesKey(attributes, hash: hash))))
            // At most five slots in eight taken, so that a miss ends within a few slots.
            if series.count * 8 > slots.count * 5 { grow() } else { place(slot, home: home) }
        }
        func apply(_ entry: inout Series) { update(&entry.value, &entry.success) }
        apply(&series[slot])
    }

    /// The key's seeded hash mixed with the resource and the set.
    private static func home(_ hash: Int, _ resource: Int, _ set: MetricSet) -> Int {
        var mixed = UInt64(bitPattern: Int64(hash)) &+ UInt64(bitPattern: Int64(resource)) &* 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ set.rawValue) &* 0xC2B2_AE3D_27D4_EB4F
        return Int(truncatingIfNeeded: mixed ^ mixed >> 29)
    }

    private func find(_ home: Int, _ hash: Int, _ resource: Int, _ set: MetricSet, _ attributes: [UInt8]) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var at = home & mask
        while slots[at] >= 0 {
            let index = Int(slots[at])
            // Read in place: a copy of the key would retain its bytes.
            if series[index].key.attributes.hash == hash, series[index].key.resource == resource, series[index].key.set == set,
               series[index].key.attributes.bytes.withUnsafeBytes({ found in attributes.withUnsafeBytes { found.sameBytes(as: $0) } }) {
                return index
            }
            at = (at + 1) & mask
        }
        return nil
    }

    private mutating func place(_ index: Int, home: Int) {
        let mask = slots.count - 1
        var at = home & mask
        while slots[at] >= 0 { at = (at + 1) & mask }
        slots[at] = Int32(truncatingIfNeeded: index)
    }

    /// Doubles the table and places every series again.
    private mutating func grow() {
        slots = Array(repeating: -1, count: max(16, slots.count * 2))
        for index in series.indices {
            let key = series[index].key
            place(index, home: Self.home(key.attributes.hash, key.resource, key.set))
        }
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
