import Prometheus
import OTLP
import Pipeline

/// The receiver's own counters, made once: looking one up by name and labels on every record
/// costs a lock and a dictionary search.
struct KafkaReceiverMetrics: Sendable {
    /// Why a record is given up on; each has its `dead_lettered_records_total` series.
    enum GiveUp: String, CaseIterable, Sendable {
        case undecodable = "undecodable_kafka_record"
        case retriesExhausted = "retries_exhausted"
        case rejectedPermanently = "rejected_permanently"
    }

    let messages: Counter
    let ambiguous: Counter
    let unroutedUnknown: Counter
    private let unrouted: [Counter]
    private let unmarshalFailed: [Counter]
    private let deadLettered: [Counter]

    init(telemetry: CollectorTelemetry, receiver: String) {
        let label = ("receiver", receiver)
        messages = telemetry.counter("otelcol_kafka_receiver_messages_total", [label])
        ambiguous = telemetry.counter("otelcol_kafka_receiver_ambiguous_records_total", [label])
        unroutedUnknown = telemetry.counter("otelcol_kafka_receiver_unrouted_records_total", [label, ("signal", "unknown")])
        unrouted = Signal.allCases.map { telemetry.counter("otelcol_kafka_receiver_unrouted_records_total", [label, ("signal", $0.rawValue)]) }
        unmarshalFailed = Signal.allCases.map { telemetry.counter("otelcol_kafka_receiver_unmarshal_failed_\($0.itemName)_total", [label]) }
        deadLettered = GiveUp.allCases.map { telemetry.counter("otelcol_kafka_receiver_dead_lettered_records_total", [label, ("reason", $0.rawValue)]) }
    }

    func unrouted(_ signal: Signal) -> Counter { unrouted[Self.index(signal)] }
    func unmarshalFailed(_ signal: Signal) -> Counter { unmarshalFailed[Self.index(signal)] }
    func deadLettered(_ reason: GiveUp) -> Counter { deadLettered[GiveUp.allCases.firstIndex(of: reason) ?? 0] }

    private static func index(_ signal: Signal) -> Int { Signal.allCases.firstIndex(of: signal) ?? 0 }
}
