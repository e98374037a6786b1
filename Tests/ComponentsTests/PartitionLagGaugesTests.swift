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
}
