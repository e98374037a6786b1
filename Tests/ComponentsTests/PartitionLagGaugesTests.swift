import Kafka
import Pipeline
import Testing
@testable import Components

@Suite struct PartitionLagGaugesTests {
    @Test func aPartitionNoLongerConsumedLosesItsSeries() {
        let telemetry = CollectorTelemetry()
        let gauges = PartitionLagGauges(telemetry: telemetry, receiver: "kafka")
        func series() -> [String] {
            telemetry.prometheusText().split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init).sorted()
        }
        gauges.publish([("t", 0, 5, 10), ("t", 1, 7, 3)], oldest: [.init(topic: "t", partition: 0): 40_000], now: 100_000)
        #expect(series() == [
            #"otelcol_kafka_receiver_current_offset{receiver="kafka",topic="t",partition="0"} 10.0"#,
            #"otelcol_kafka_receiver_current_offset{receiver="kafka",topic="t",partition="1"} 3.0"#,
            #"otelcol_kafka_receiver_lag_seconds{receiver="kafka",topic="t",partition="0"} 60.0"#,
            #"otelcol_kafka_receiver_lag_seconds{receiver="kafka",topic="t",partition="1"} 0.0"#,
            #"otelcol_kafka_receiver_offset_lag{receiver="kafka",topic="t",partition="0"} 5.0"#,
            #"otelcol_kafka_receiver_offset_lag{receiver="kafka",topic="t",partition="1"} 7.0"#,
        ])
        // Partition 0 went to another member in a rebalance: only partition 1 is reported.
        gauges.publish([("t", 1, 0, 10)])
        #expect(series() == [
            #"otelcol_kafka_receiver_current_offset{receiver="kafka",topic="t",partition="1"} 10.0"#,
            #"otelcol_kafka_receiver_lag_seconds{receiver="kafka",topic="t",partition="1"} 0.0"#,
            #"otelcol_kafka_receiver_offset_lag{receiver="kafka",topic="t",partition="1"} 0.0"#,
        ])
        // Partition 1's lag unknown for a moment (still consumed): its last lag stays.
        gauges.publish([("t", 1, nil, 11)])
        #expect(series() == [
            #"otelcol_kafka_receiver_current_offset{receiver="kafka",topic="t",partition="1"} 11.0"#,
            #"otelcol_kafka_receiver_lag_seconds{receiver="kafka",topic="t",partition="1"} 0.0"#,
            #"otelcol_kafka_receiver_offset_lag{receiver="kafka",topic="t",partition="1"} 0.0"#,
        ])
        // And partition 0 back.
        gauges.publish([("t", 0, 0, 12), ("t", 1, 0, 10)])
        #expect(series().count == 6)
    }

    @Test func retentionHeadroomAndItsWarningOncePerCrossing() {
        let telemetry = CollectorTelemetry()
        let gauges = PartitionLagGauges(telemetry: telemetry, receiver: "kafka")
        let oldest: [OffsetTracker.PartitionKey: Int64?] = [.init(topic: "t", partition: 0): 1_000_000]
        func headroom() -> String? {
            telemetry.prometheusText().split(separator: "\n").first { $0.hasPrefix("otelcol_kafka_receiver_retention_headroom_seconds") }.map(String.init)
        }
        // retention 1 h; the oldest unread record is 3000 s old: 600 s left, under a 900 s warning.
        let hour = KafkaTopicRetention(milliseconds: 3_600_000)
        var short = gauges.publish([("t", 0, 5, 10), ("u", 0, 0, 1)], oldest: oldest, retention: ["t": hour, "u": KafkaTopicRetention()],
                                   warnBelow: 900, now: 1_000_000 + 3_000_000)
        #expect(short.map { "\($0.partition.topic)/\($0.partition.partition) \($0.seconds) \($0.limit.rawValue)" } == ["t/0 600.0 retention.ms"])
        #expect(headroom() == #"otelcol_kafka_receiver_retention_headroom_seconds{receiver="kafka",topic="t",partition="0"} 600.0"#, "none for a topic without a limit")
        short = gauges.publish([("t", 0, 5, 10)], oldest: oldest, retention: ["t": hour], warnBelow: 900, now: 1_000_000 + 3_100_000)
        #expect(short.isEmpty, "still short: not told again")
        short = gauges.publish([("t", 0, 0, 10)], retention: ["t": hour], warnBelow: 900, now: 5_000_000)
        #expect(short.isEmpty && headroom()?.hasSuffix(" 3600.0") == true, "caught up: the whole retention is left")
        short = gauges.publish([("t", 0, 5, 10)], oldest: oldest, retention: ["t": hour], warnBelow: 900, now: 1_000_000 + 3_500_000)
        #expect(short.count == 1, "short again after recovering: told again")
    }

    @Test func retentionBytesHeadroomFromTheWriteRateAndTheRecordSize() {
        let telemetry = CollectorTelemetry()
        let gauges = PartitionLagGauges(telemetry: telemetry, receiver: "kafka")
        func headroom() -> Double? {
            telemetry.prometheusText().split(separator: "\n").first { $0.hasPrefix("otelcol_kafka_receiver_retention_headroom_seconds") }
                .flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        // 1 MB per partition; records of 1000 bytes (key and value) as received.
        let limits = ["t": KafkaTopicRetention(bytes: 1_000_000)]
        func traffic(end: Double) -> [KafkaPartitionTraffic] {
            [KafkaPartitionTraffic(topic: "t", partition: 0, end: end, receivedRecords: 50, receivedBytes: 50_000)]
        }
        // One sample: no write rate yet, so no headroom from size.
        gauges.publish([("t", 0, 100, 0)], traffic: traffic(end: 1_000), retention: limits, now: 0)
        #expect(headroom() == nil)
        // 500 records written in 5 s: 100 a second. The log holds 1000 records; 100 are unread,
        // so 900 more can be written before the oldest unread one goes: 9 s.
        var short = gauges.publish([("t", 0, 100, 0)], traffic: traffic(end: 1_500), retention: limits, warnBelow: 60, now: 5_000)
        #expect(headroom() == 9)
        #expect(short.map { "\($0.seconds) \($0.limit.rawValue)" } == ["9.0 retention.bytes"])
        // With a time limit too, the nearer one counts: 2 s of retention.ms here.
        short = gauges.publish([("t", 0, 100, 0)], traffic: traffic(end: 2_000), oldest: [.init(topic: "t", partition: 0): 8_000],
                               retention: ["t": KafkaTopicRetention(milliseconds: 4_000, bytes: 1_000_000)], now: 10_000)
        #expect(headroom() == 2)
        // Writes stopped for a whole window: nothing moves toward the size limit, and without a
        // time limit there is no headroom to show.
        for step in 3...(2 + PartitionLagGauges.rateWindow) {
            gauges.publish([("t", 0, 100, 0)], traffic: traffic(end: 2_000), retention: limits, now: Int64(step) * 5_000)
        }
        #expect(headroom() == nil)
    }
}
