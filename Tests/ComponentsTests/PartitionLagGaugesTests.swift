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
        var short = gauges.publish([("t", 0, 5, 10), ("u", 0, 0, 1)], oldest: oldest, retention: ["t": 3_600_000, "u": nil],
                                   warnBelow: 900, now: 1_000_000 + 3_000_000)
        #expect(short.map { "\($0.0.topic)/\($0.0.partition) \($0.1)" } == ["t/0 600.0"])
        #expect(headroom() == #"otelcol_kafka_receiver_retention_headroom_seconds{receiver="kafka",topic="t",partition="0"} 600.0"#, "none for a topic without a limit")
        short = gauges.publish([("t", 0, 5, 10)], oldest: oldest, retention: ["t": 3_600_000], warnBelow: 900, now: 1_000_000 + 3_100_000)
        #expect(short.isEmpty, "still short: not told again")
        short = gauges.publish([("t", 0, 0, 10)], retention: ["t": 3_600_000], warnBelow: 900, now: 5_000_000)
        #expect(short.isEmpty && headroom()?.hasSuffix(" 3600.0") == true, "caught up: the whole retention is left")
        short = gauges.publish([("t", 0, 5, 10)], oldest: oldest, retention: ["t": 3_600_000], warnBelow: 900, now: 1_000_000 + 3_500_000)
        #expect(short.count == 1, "short again after recovering: told again")
    }
}
