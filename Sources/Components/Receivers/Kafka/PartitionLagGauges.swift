import Foundation
import Kafka
import Pipeline
import Synchronization

/// `otelcol_kafka_receiver_offset_lag` and `_current_offset` per partition this member consumes,
/// from librdkafka's statistics, and `_lag_seconds`: how long ago the oldest record not yet
/// committed was written (0 when every record taken is done), and `_retention_headroom_seconds`:
/// how long until the topic's retention deletes that record, by `retention.ms` (its limit less
/// that age) or by `retention.bytes` (the records the partition's log may hold beyond the lag, at
/// the rate records are written to it), whichever comes first; topics kept without limits have
/// none. A partition this member no longer consumes (revoked in a rebalance, now another
/// member's) loses its series: its last value would otherwise stay on forever, and a dashboard
/// summing the group's lag would never see it reach zero. A consumed partition whose lag
/// librdkafka does not know at the moment keeps its last lag.
final class PartitionLagGauges: Sendable {
    struct Partition: Hashable, Sendable {
        var topic: String
        var partition: Int32
    }

    /// The topic setting that deletes a partition's unread records first.
    enum RetentionLimit: String {
        case time = "retention.ms"
        /// Estimated from the partition's write rate and record size.
        case size = "retention.bytes"
    }

    /// A partition whose headroom fell under the warning threshold: by how much, and which limit.
    struct Shortfall: Equatable {
        var partition: Partition
        var seconds: Double
        var limit: RetentionLimit
    }

    /// How far back the write rate is measured (statistics come every 5 s).
    static let rateWindow = 12

    private let telemetry: CollectorTelemetry
    private let receiver: String
    private let published = Mutex<Set<Partition>>([])
    /// Partitions whose headroom is under the warning threshold, so each crossing is told once.
    private let short = Mutex<Set<Partition>>([])
    /// Each partition's ends as the last statistics gave them (epoch milliseconds, offset), oldest
    /// first: its write rate.
    private let ends = Mutex<[Partition: [(at: Int64, end: Double)]]>([:])

    init(telemetry: CollectorTelemetry, receiver: String) {
        self.telemetry = telemetry
        self.receiver = receiver
    }

    /// `oldest` holds, per partition with records in flight, the write time (epoch milliseconds)
    /// of the oldest one not yet committed; `traffic` each partition's end and what was received
    /// of it; `retention` each topic's limits; `now` is the time to measure from. Returns the
    /// partitions whose headroom fell under `warnBelow` seconds since the last call.
    @discardableResult
    func publish(_ partitions: [(topic: String, partition: Int32, lag: Double?, currentOffset: Double)],
                 traffic: [KafkaPartitionTraffic] = [], oldest: [OffsetTracker.PartitionKey: Int64?] = [:],
                 retention: [String: KafkaTopicRetention] = [:], warnBelow: Double = 0,
                 now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> [Shortfall] {
        let rates = writeRates(traffic, now: now)
        var current = Set<Partition>()
        var shortNow: [Shortfall] = []
        for p in partitions {
            let key = Partition(topic: p.topic, partition: p.partition)
            let labels = labels(key)
            if let lag = p.lag { telemetry.gauge("otelcol_kafka_receiver_offset_lag", labels).set(lag) }
            telemetry.gauge("otelcol_kafka_receiver_current_offset", labels).set(p.currentOffset)
            let written = oldest[OffsetTracker.PartitionKey(topic: p.topic, partition: p.partition)] ?? nil
            let age = written.map { Double(max(0, now - $0)) / 1000 } ?? 0
            telemetry.gauge("otelcol_kafka_receiver_lag_seconds", labels).set(age)
            let limits = retention[p.topic] ?? KafkaTopicRetention()
            var headroom: (seconds: Double, limit: RetentionLimit)?
            if let milliseconds = limits.milliseconds { headroom = (Double(milliseconds) / 1000 - age, .time) }
            if let bytes = limits.bytes, let lag = p.lag, let rate = rates[key], rate.recordsPerSecond > 0, rate.recordBytes > 0 {
                let seconds = (Double(bytes) / rate.recordBytes - lag) / rate.recordsPerSecond
                if seconds < headroom?.seconds ?? .infinity { headroom = (seconds, .size) }
            }
            if let headroom {
                telemetry.gauge("otelcol_kafka_receiver_retention_headroom_seconds", labels).set(headroom.seconds)
                if headroom.seconds < warnBelow { shortNow.append(Shortfall(partition: key, seconds: headroom.seconds, limit: headroom.limit)) }
            } else {
                telemetry.removeGauge("otelcol_kafka_receiver_retention_headroom_seconds", labels)
            }
            current.insert(key)
        }
        let gone = published.withLock { published in
            defer { published = current }
            return published.subtracting(current)
        }
        for partition in gone {
            telemetry.removeGauge("otelcol_kafka_receiver_offset_lag", labels(partition))
            telemetry.removeGauge("otelcol_kafka_receiver_current_offset", labels(partition))
            telemetry.removeGauge("otelcol_kafka_receiver_lag_seconds", labels(partition))
            telemetry.removeGauge("otelcol_kafka_receiver_retention_headroom_seconds", labels(partition))
        }
        return short.withLock { short in
            defer { short = Set(shortNow.map(\.partition)) }
            return shortNow.filter { !short.contains($0.partition) }
        }
    }

    /// Per partition: records written per second over the last `rateWindow` statistics, and the
    /// average size (key and value) of the records received. The size is of records as fetched,
    /// uncompressed: on a compressed topic the log holds fewer bytes, so the estimate errs short.
    private func writeRates(_ traffic: [KafkaPartitionTraffic], now: Int64) -> [Partition: (recordsPerSecond: Double, recordBytes: Double)] {
        ends.withLock { ends in
            var rates: [Partition: (Double, Double)] = [:]
            var seen: [Partition: [(at: Int64, end: Double)]] = [:]
            for t in traffic {
                let key = Partition(topic: t.topic, partition: t.partition)
                var samples = ends[key] ?? []
                // A partition whose end went back (recreated) starts over.
                if let last = samples.last, t.end < last.end { samples.removeAll() }
                samples.append((now, t.end))
                if samples.count > Self.rateWindow { samples.removeFirst(samples.count - Self.rateWindow) }
                seen[key] = samples
                guard let first = samples.first, now > first.at, t.receivedRecords > 0 else { continue }
                rates[key] = ((t.end - first.end) / (Double(now - first.at) / 1000), t.receivedBytes / t.receivedRecords)
            }
            ends = seen
            return rates
        }
    }

    private func labels(_ p: Partition) -> [(String, String)] {
        [("receiver", receiver), ("topic", p.topic), ("partition", String(p.partition))]
    }
}
