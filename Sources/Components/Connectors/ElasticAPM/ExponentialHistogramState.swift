import Foundation
import OTLP

/// A base-2 exponential histogram being aggregated: values start at scale 20 and the scale drops
/// whenever the positive or the negative buckets would span more than `maxBuckets`, as the
/// OpenTelemetry SDKs and Elastic's aggregation do (each step merges bucket pairs).
struct ExponentialHistogramState: Equatable {
    static let initialScale: Int32 = 20
    let maxBuckets: Int
    private(set) var scale = initialScale
    private(set) var count: UInt64 = 0
    private(set) var sum: Double = 0
    private(set) var min = Double.infinity
    private(set) var max = -Double.infinity
    private(set) var zeroCount: UInt64 = 0
    private(set) var positive = Buckets()
    private(set) var negative = Buckets()

    /// Counts by bucket index, kept from `offset`.
    struct Buckets: Equatable {
        var offset = 0
        var counts: [UInt64] = []

        var lastIndex: Int { offset + counts.count - 1 }

        /// The index span (first...last) after adding `index`, without adding it.
        func span(adding index: Int) -> ClosedRange<Int> {
            counts.isEmpty ? index...index : Swift.min(offset, index)...Swift.max(lastIndex, index)
        }

        mutating func add(_ index: Int, _ count: UInt64) {
            if counts.isEmpty {
                offset = index
                counts = [count]
                return
            }
            if index < offset {
                counts.insert(contentsOf: repeatElement(0, count: offset - index), at: 0)
                offset = index
            } else if index > lastIndex {
                counts.append(contentsOf: repeatElement(0, count: index - lastIndex))
            }
            counts[index - offset] += count
        }

        /// The buckets at one scale lower: index i goes to floor(i / 2).
        mutating func downscale(by steps: Int32) {
            guard !counts.isEmpty, steps > 0 else { return }
            var merged = Buckets()
            for (position, count) in counts.enumerated() where count > 0 {
                merged.add((offset + position) >> Int(steps), count)
            }
            self = merged
        }
    }

    init(maxBuckets: Int = 160) { self.maxBuckets = maxBuckets }

    /// Adds `value` observed `count` times.
    mutating func add(_ value: Double, count: UInt64) {
        guard count > 0, value.isFinite else { return }
        self.count += count
        sum += value * Double(count)
        min = Swift.min(min, value)
        max = Swift.max(max, value)
        if value == 0 {
            zeroCount += count
            return
        }
        let magnitude = Swift.abs(value)
        var index = Self.index(magnitude, scale: scale)
        let steps = stepsToFit(value > 0 ? positive.span(adding: index) : negative.span(adding: index))
        if steps > 0 {
            downscale(by: steps)
            index = Self.index(magnitude, scale: scale)
        }
        if value > 0 { positive.add(index, count) } else { negative.add(index, count) }
    }

    /// Adds another histogram's observations, at the lower of the two scales.
    mutating func merge(_ other: ExponentialHistogramState) {
        guard other.count > 0 else { return }
        if other.scale < scale { downscale(by: scale - other.scale) }
        var incoming = other
        if incoming.scale > scale { incoming.downscale(by: incoming.scale - scale) }
        count += incoming.count
        sum += incoming.sum
        min = Swift.min(min, incoming.min)
        max = Swift.max(max, incoming.max)
        zeroCount += incoming.zeroCount
        for (buckets, isPositive) in [(incoming.positive, true), (incoming.negative, false)] {
            for (position, bucketCount) in buckets.counts.enumerated() where bucketCount > 0 {
                let index = buckets.offset + position
                var scaled = index >> Int(incoming.scale - scale)
                let steps = stepsToFit(isPositive ? positive.span(adding: scaled) : negative.span(adding: scaled))
                if steps > 0 {
                    downscale(by: steps)
                    scaled = index >> Int(incoming.scale - scale)
                }
                if isPositive { positive.add(scaled, bucketCount) } else { negative.add(scaled, bucketCount) }
            }
        }
    }

    /// How many scale steps down make `span` fit in `maxBuckets`.
    private func stepsToFit(_ span: ClosedRange<Int>) -> Int32 {
        var span = span
        var steps: Int32 = 0
        while span.count > maxBuckets {
            steps += 1
            span = (span.lowerBound >> 1)...(span.upperBound >> 1)
        }
        return steps
    }

    private mutating func downscale(by steps: Int32) {
        guard steps > 0 else { return }
        scale -= steps
        positive.downscale(by: steps)
        negative.downscale(by: steps)
    }

    /// The bucket of a positive value at `scale`: buckets are (base^i, base^(i+1)] with
    /// base = 2^(2^-scale), so exact powers of the base fall in the bucket below.
    static func index(_ value: Double, scale: Int32) -> Int {
        let scaled = log2(value) * pow(2, Double(scale))
        let ceiling = scaled.rounded(.up)
        return Int(ceiling) - 1
    }

    var dataPoint: Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint {
        .with {
            $0.scale = scale
            $0.count = count
            $0.sum = sum
            $0.zeroCount = zeroCount
            if count > 0 {
                $0.min = min
                $0.max = max
            }
            $0.positive.offset = Int32(clamping: positive.offset)
            $0.positive.bucketCounts = positive.counts
            $0.negative.offset = Int32(clamping: negative.offset)
            $0.negative.bucketCounts = negative.counts
        }
    }
}
