import OTLP

/// What a batch adds to one series of one metric: into which resource, metric and series it
/// goes, and the sum of what it observed there.
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

    /// Resource attributes with their key, made once per resource entry of a batch.
    struct Resource {
        let values: [KeyValue]
        let key: SeriesKey

        init(_ values: [KeyValue]) {
            self.values = values
            key = SeriesKey(values)
        }
    }

    var resource: Resource
    var metric: Metric
    var attributes: SeriesKey
    var value: PointValue
}

/// A data point's running value: a sum, or a histogram's count, sum, first bucket of the bounds
/// [1] and (for the exponential kind) buckets. Values of one batch are summed first and then
/// merged into each window, which gives what adding every observation to the window would.
struct PointValue {
    var int: Int64 = 0
    var double: Double = 0
    var count: UInt64 = 0
    var sum: Double = 0
    /// Observations in the first bucket of the explicit bounds [1].
    var firstBucket: UInt64 = 0
    var exponential: ExponentialHistogramState?

    init() {}
    init(int: Int64) { self.int = int }
    init(double: Double) { self.double = double }

    /// `value` observed `count` times; `exponential` keeps buckets too.
    mutating func observe(_ value: Double, count: UInt64, exponential keepsBuckets: Bool) {
        self.count += count
        sum += value * Double(count)
        if value <= 1 { firstBucket += count }
        if keepsBuckets {
            // Taken out and put back: testing the optional first would copy the state.
            var state = exponential.take() ?? ExponentialHistogramState()
            state.add(value, count: count)
            exponential = state
        }
    }

    mutating func merge(_ other: PointValue) {
        int &+= other.int
        double += other.double
        count += other.count
        sum += other.sum
        firstBucket += other.firstBucket
        if let incoming = other.exponential {
            if exponential == nil { exponential = incoming } else { exponential?.merge(incoming) }
        }
    }

    /// This value without its buckets: the explicit-bounds histogram of the same observations.
    var withoutBuckets: PointValue {
        var copy = self
        copy.exponential = nil
        return copy
    }
}
