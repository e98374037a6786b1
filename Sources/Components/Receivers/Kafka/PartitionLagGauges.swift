import Foundation
import Pipeline
import Synchronization

/// `otelcol_kafka_receiver_offset_lag` and `_current_offset` per partition this member consumes,
/// from librdkafka's statistics, and `_lag_seconds`: how long ago the oldest record not yet
/// committed was written (0 when every record taken is done), and `_retention_headroom_seconds`:
/// how long until the topic's `retention.ms` deletes that record (topics kept without a time
/// limit have none). A partition this member no longer consumes (revoked in a
/// rebalance, now another member's) loses its series: its last value would otherwise stay on
/// forever, and a dashboard summing the group's lag would never see it reach zero. A consumed
/// partition whose lag librdkafka does not know at the moment keeps its last lag.
final class PartitionLagGauges: Sendable {
    struct Partition: Hashable, Sendable {
        var topic: String
        var partition: Int32
    }

    private let telemetry: CollectorTelemetry
    private let receiver: String
    private let published = Mutex<Set<Partition>>([])
    /// Partitions whose headroom is under the warning threshold, so each crossing is told once.
    private let short = Mutex<Set<Partition>>([])

    init(telemetry: CollectorTelemetry, receiver: String) {
        self.telemetry = telemetry
        self.receiver = receiver
    }

    /// `oldest` holds, per partition with records in flight, the write time (epoch milliseconds)
    /// of the oldest one not yet committed; `retention` each topic's `retention.ms` (nil: no
    /// limit); `now` is the time to measure from. Returns the partitions whose headroom fell under
    /// `warnBelow` seconds since the last call, with the headroom.
    @discardableResult
    func publish(_ partitions: [(topic: String, partition: Int32, lag: Double?, currentOffset: Double)],
                 oldest: [OffsetTracker.PartitionKey: Int64?] = [:], retention: [String: Int64?] = [:], warnBelow: Double = 0,
                 now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> [(Partition, Double)] {
        var current = Set<Partition>()
        var shortNow: [(Partition, Double)] = []
        for p in partitions {
            let labels = labels(Partition(topic: p.topic, partition: p.partition))
            if let lag = p.lag { telemetry.gauge("otelcol_kafka_receiver_offset_lag", labels).set(lag) }
            telemetry.gauge("otelcol_kafka_receiver_current_offset", labels).set(p.currentOffset)
            let written = oldest[OffsetTracker.PartitionKey(topic: p.topic, partition: p.partition)] ?? nil
            let age = written.map { Double(max(0, now - $0)) / 1000 } ?? 0
            telemetry.gauge("otelcol_kafka_receiver_lag_seconds", labels).set(age)
            if case .some(.some(let milliseconds)) = retention[p.topic] {
                let headroom = Double(milliseconds) / 1000 - age
                telemetry.gauge("otelcol_kafka_receiver_retention_headroom_seconds", labels).set(headroom)
                if headroom < warnBelow { shortNow.append((Partition(topic: p.topic, partition: p.partition), headroom)) }
            }
            current.insert(Partition(topic: p.topic, partition: p.partition))
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
            defer { short = Set(shortNow.map(\.0)) }
            return shortNow.filter { !short.contains($0.0) }
        }
    }

    private func labels(_ p: Partition) -> [(String, String)] {
        [("receiver", receiver), ("topic", p.topic), ("partition", String(p.partition))]
    }
}
