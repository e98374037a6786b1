import Foundation
import Pipeline
import Synchronization

/// `otelcol_kafka_receiver_offset_lag` and `_current_offset` per partition this member consumes,
/// from librdkafka's statistics, and `_lag_seconds`: how long ago the oldest record not yet
/// committed was written (0 when every record taken is done). A partition this member no longer consumes (revoked in a
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

    init(telemetry: CollectorTelemetry, receiver: String) {
        self.telemetry = telemetry
        self.receiver = receiver
    }

    /// `oldest` holds, per partition with records in flight, the write time (epoch milliseconds)
    /// of the oldest one not yet committed; `now` is the time to measure from.
    func publish(_ partitions: [(topic: String, partition: Int32, lag: Double?, currentOffset: Double)],
                 oldest: [OffsetTracker.PartitionKey: Int64?] = [:], now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) {
        var current = Set<Partition>()
        for p in partitions {
            let labels = labels(Partition(topic: p.topic, partition: p.partition))
            if let lag = p.lag { telemetry.gauge("otelcol_kafka_receiver_offset_lag", labels).set(lag) }
            telemetry.gauge("otelcol_kafka_receiver_current_offset", labels).set(p.currentOffset)
            let written = oldest[OffsetTracker.PartitionKey(topic: p.topic, partition: p.partition)] ?? nil
            telemetry.gauge("otelcol_kafka_receiver_lag_seconds", labels).set(written.map { Double(max(0, now - $0)) / 1000 } ?? 0)
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
        }
    }

    private func labels(_ p: Partition) -> [(String, String)] {
        [("receiver", receiver), ("topic", p.topic), ("partition", String(p.partition))]
    }
}
