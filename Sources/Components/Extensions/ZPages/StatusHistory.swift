import Foundation
import Pipeline
import Synchronization

/// What the status page shows, sampled from the collector's own metrics once a second: rates per
/// component, queue fill, and each partition's lag over the last minutes.
final class StatusHistory: Sendable {
    struct Component: Codable, Sendable {
        var kind: String
        var id: String
        var accepted: Double = 0
        var refused: Double = 0
        var sent: Double = 0
        var failed: Double = 0
        var dropped: Double = 0
    }

    struct Partition: Codable, Sendable {
        var receiver: String
        var topic: String
        var partition: String
        var lagRecords: Double
        var lagSeconds: Double
        /// Time left before retention deletes an unread record; nil for a topic without limits.
        var headroomSeconds: Double?
        /// One entry per sample, oldest first: lag in records and in seconds.
        var records: [Double]
        var seconds: [Double]
    }

    struct Queue: Codable, Sendable {
        var exporter: String
        var signal: String
        var size: Double
        var capacity: Double
    }

    struct Snapshot: Codable, Sendable {
        var uptimeSeconds: Double
        var components: [Component] = []
        var partitions: [Partition] = []
        var queues: [Queue] = []
        var errors: [String] = []
    }

    static let kept = 300

    private struct State {
        var totals: [String: Double] = [:]
        var at: ContinuousClock.Instant?
        var rates: [String: Component] = [:]
        var partitions: [String: Partition] = [:]
        var queues: [Queue] = []
    }

    private let state = Mutex(State())

    /// Reads one sample of the exposition.
    func sample(_ text: String, now: ContinuousClock.Instant = .now) {
        let samples = PrometheusText.parse(text)
        state.withLock { state in
            let elapsed = state.at.map { Double((now - $0).components.seconds) + Double((now - $0).components.attoseconds) / 1e18 } ?? 0
            var totals: [String: Double] = [:]
            var rates: [String: Component] = [:]
            var seen = Set<String>()
            state.queues = []
            for sample in samples {
                if let (kind, id, column) = Self.counterColumn(sample) {
                    let key = "\(kind)/\(id)/\(column)/\(sample.name)/\(sample.labels.map { "\($0.0)=\($0.1)" }.joined())"
                    totals[key] = sample.value
                    let previous = state.totals[key] ?? sample.value
                    let rate = elapsed > 0 ? max(0, sample.value - previous) / elapsed : 0
                    var component = rates["\(kind)/\(id)"] ?? Component(kind: kind, id: id)
                    switch column {
                    case "accepted": component.accepted += rate
                    case "refused": component.refused += rate
                    case "sent": component.sent += rate
                    case "failed": component.failed += rate
                    default: component.dropped += rate
                    }
                    rates["\(kind)/\(id)"] = component
                }
                switch sample.name {
                case "otelcol_kafka_receiver_offset_lag", "otelcol_kafka_receiver_lag_seconds", "otelcol_kafka_receiver_retention_headroom_seconds":
                    let receiver = sample.label("receiver") ?? "", topic = sample.label("topic") ?? "", partition = sample.label("partition") ?? ""
                    let key = "\(receiver)/\(topic)/\(partition)"
                    var entry = state.partitions[key] ?? Partition(receiver: receiver, topic: topic, partition: partition, lagRecords: 0, lagSeconds: 0,
                                                                   headroomSeconds: nil, records: [], seconds: [])
                    switch sample.name {
                    case "otelcol_kafka_receiver_offset_lag": entry.lagRecords = sample.value
                    case "otelcol_kafka_receiver_lag_seconds": entry.lagSeconds = sample.value
                    default: entry.headroomSeconds = sample.value
                    }
                    state.partitions[key] = entry
                    seen.insert(key)
                case "otelcol_exporter_queue_size":
                    let capacity = samples.first { $0.name == "otelcol_exporter_queue_capacity" && $0.labels.map(\.1) == sample.labels.map(\.1) }?.value ?? 0
                    state.queues.append(Queue(exporter: sample.label("exporter") ?? "", signal: sample.label("data_type") ?? "", size: sample.value, capacity: capacity))
                default:
                    break
                }
            }
            for key in Array(state.partitions.keys) {
                guard seen.contains(key), var entry = state.partitions[key] else {
                    state.partitions[key] = nil
                    continue
                }
                entry.records = Array((entry.records + [entry.lagRecords]).suffix(Self.kept))
                entry.seconds = Array((entry.seconds + [entry.lagSeconds]).suffix(Self.kept))
                state.partitions[key] = entry
            }
            state.totals = totals
            state.at = now
            state.rates = rates
        }
    }

    func snapshot(uptime: Double, errors: [String]) -> Snapshot {
        state.withLock { state in
            Snapshot(uptimeSeconds: uptime,
                     components: state.rates.values.sorted { ($0.kind, $0.id) < ($1.kind, $1.id) },
                     partitions: state.partitions.values.sorted { ($0.topic, Int($0.partition) ?? 0) < ($1.topic, Int($1.partition) ?? 0) },
                     queues: state.queues.sorted { ($0.exporter, $0.signal) < ($1.exporter, $1.signal) },
                     errors: errors)
        }
    }

    /// Which component and column a counter feeds: receivers' accepted and refused items,
    /// exporters' sent and failed items, and drops.
    private static func counterColumn(_ sample: PrometheusText.Sample) -> (String, String, String)? {
        let name = sample.name
        if name.hasPrefix("otelcol_receiver_accepted_"), let id = sample.label("receiver") { return ("receiver", id, "accepted") }
        if name.hasPrefix("otelcol_receiver_refused_"), let id = sample.label("receiver") { return ("receiver", id, "refused") }
        if name.hasPrefix("otelcol_exporter_sent_"), let id = sample.label("exporter") { return ("exporter", id, "sent") }
        if name.hasPrefix("otelcol_exporter_send_failed_"), let id = sample.label("exporter") { return ("exporter", id, "failed") }
        if name == "otelcol_dropped_items_total", let id = sample.label("component") { return ("component", id, "dropped") }
        return nil
    }
}
