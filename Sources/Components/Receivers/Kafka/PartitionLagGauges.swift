import Pipeline
import Synchronization

/// `otelcol_kafka_receiver_offset_lag` and `_current_offset` per partition this member consumes,
/// from librdkafka's statistics. A partition this member no longer consumes (revoked in a
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

    func publish(_ partitions: [(topic: String, partition: Int32, lag: Double?, currentOffset: Double)]) {
        var current = Set<Partition>()
        for p in partitions {
            let labels = labels(Partition(topic: p.topic, partition: p.partition))
            if let lag = p.lag { telemetry.gauge("otelcol_kafka_receiver_offset_lag", labels).set(lag) }
            telemetry.gauge("otelcol_kafka_receiver_current_offset", labels).set(p.currentOffset)
            current.insert(Partition(topic: p.topic, partition: p.partition))
        }
        let gone = published.withLock { published in
            defer { published = current }
            return published.subtracting(current)
        }
        for partition in gone {
            telemetry.removeGauge("otelcol_kafka_receiver_offset_lag", labels(partition))
            telemetry.removeGauge("otelcol_kafka_receiver_current_offset", labels(partition))
        }
    }

    private func labels(_ p: Partition) -> [(String, String)] {
        [("receiver", receiver), ("topic", p.topic), ("partition", String(p.partition))]
    }
}
