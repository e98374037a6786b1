import Foundation

/// The figures of librdkafka's statistics JSON that the collector exposes as metrics.
public struct KafkaStatistics: Sendable {
    /// Messages and bytes waiting in the producer's queue.
    public var queuedMessages: Double
    public var queuedBytes: Double
    /// Totals since the client started.
    public var transmittedMessages: Double
    public var transmittedBytes: Double
    public var transmitErrors: Double
    /// Per broker (by name): average round-trip time in microseconds and whether it is up.
    public var brokers: [(name: String, rttMicroseconds: Double, up: Bool)]

    init?(json: Data) {
        guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return nil }
        func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? 0 }
        queuedMessages = number(root["msg_cnt"])
        queuedBytes = number(root["msg_size"])
        transmittedMessages = number(root["txmsgs"])
        transmittedBytes = number(root["txmsg_bytes"])
        var errors = 0.0
        var brokers: [(String, Double, Bool)] = []
        for (name, value) in (root["brokers"] as? [String: Any]) ?? [:] {
            guard let broker = value as? [String: Any], number(broker["nodeid"]) >= 0 else { continue }
            errors += number(broker["txerrs"])
            let rtt = number((broker["rtt"] as? [String: Any])?["avg"])
            brokers.append((name, rtt, (broker["state"] as? String) == "UP"))
        }
        transmitErrors = errors
        self.brokers = brokers.sorted { $0.0 < $1.0 }
    }
}
