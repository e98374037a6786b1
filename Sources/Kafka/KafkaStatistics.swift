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
    /// Per consumed partition: how far the committed position trails the partition's end (nil
    /// while librdkafka does not know it, e.g. before the partition's end was fetched), and the
    /// position (next offset) the consumer has stored. Only partitions this member consumes.
    public var partitions: [(topic: String, partition: Int32, lag: Double?, currentOffset: Double)]
    /// Per consumed partition whose end is known: its end (high watermark) and what this consumer
    /// has received of it since it started (records, and their key and value bytes).
    public var traffic: [KafkaPartitionTraffic]

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
        var partitions: [(String, Int32, Double?, Double)] = []
        var traffic: [KafkaPartitionTraffic] = []
        for (topic, value) in (root["topics"] as? [String: Any]) ?? [:] {
            for (id, entry) in ((value as? [String: Any])?["partitions"] as? [String: Any]) ?? [:] {
                guard let p = entry as? [String: Any], let partition = Int32(id), partition >= 0,
                      let state = p["fetch_state"] as? String, state != "none", state != "stopped" else { continue }
                let committed = number(p["committed_offset"])
                partitions.append((topic, partition, Self.lag(p), max(committed, 0)))
                let end = number(p["hi_offset"])
                if end >= 0 {
                    traffic.append(KafkaPartitionTraffic(topic: topic, partition: partition, end: end,
                                                         receivedRecords: number(p["rxmsgs"]), receivedBytes: number(p["rxbytes"])))
                }
            }
        }
        self.partitions = partitions.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        self.traffic = traffic.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// How far a partition's committed offset trails its high watermark, from the offsets
    /// themselves: librdkafka's `consumer_lag` is -1 whenever the committed offset is past the
    /// end it last heard of (a paused partition hears nothing new), so a drained partition could
    /// keep showing the lag it had before. nil when the end is not known yet.
    static func lag(_ partition: [String: Any]) -> Double? {
        func offset(_ key: String) -> Double? { (partition[key] as? NSNumber)?.doubleValue }
        guard let end = offset("hi_offset"), end >= 0 else { return nil }
        guard let committed = offset("committed_offset"), committed >= 0 else {
            // Before the group's first commit on a partition, everything in it is unconfirmed.
            return end - max(0, offset("lo_offset") ?? 0)
        }
        return max(0, end - committed)
    }
}

/// How much a consumed partition receives: its end and this consumer's totals of it.
public struct KafkaPartitionTraffic: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    /// The offset the next record written to the partition gets (its high watermark).
    public var end: Double
    public var receivedRecords: Double
    public var receivedBytes: Double

    public init(topic: String, partition: Int32, end: Double, receivedRecords: Double, receivedBytes: Double) {
        self.topic = topic
        self.partition = partition
        self.end = end
        self.receivedRecords = receivedRecords
        self.receivedBytes = receivedBytes
    }
}
