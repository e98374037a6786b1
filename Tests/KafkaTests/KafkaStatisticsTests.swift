import Foundation
import Testing
@testable import Kafka

@Suite struct KafkaStatisticsTests {
    /// librdkafka's statistics for one topic, its partitions given as JSON objects by id.
    func statistics(_ partitions: [String: String]) throws -> KafkaStatistics {
        let entries = partitions.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ",")
        let json = #"{"msg_cnt":0,"brokers":{},"topics":{"t":{"partitions":{"# + entries + "}}}}"
        return try #require(KafkaStatistics(json: Data(json.utf8)))
    }

    @Test func lagComesFromTheHighWatermarkAndTheCommittedOffset() throws {
        let parsed = try statistics([
            // Consuming, 7 records not yet committed.
            "0": #"{"fetch_state":"active","hi_offset":10,"lo_offset":0,"committed_offset":3,"consumer_lag":7,"rxmsgs":6,"rxbytes":600}"#,
            // Committed past the end it last heard of (paused while more arrived): librdkafka says
            // -1, the partition is drained.
            "1": #"{"fetch_state":"active","hi_offset":4,"lo_offset":0,"committed_offset":6,"consumer_lag":-1}"#,
            // Nothing committed yet: all of it is unconfirmed.
            "2": #"{"fetch_state":"active","hi_offset":5,"lo_offset":1,"committed_offset":-1001,"consumer_lag":-1}"#,
            // End not known yet.
            "3": #"{"fetch_state":"offset-query","hi_offset":-1,"lo_offset":-1,"committed_offset":-1001,"consumer_lag":-1}"#,
            // Not this member's.
            "4": #"{"fetch_state":"none","hi_offset":9,"lo_offset":0,"committed_offset":2,"consumer_lag":7}"#,
            // The internal "unassigned" partition.
            "-1": #"{"fetch_state":"none","hi_offset":-1,"lo_offset":-1,"committed_offset":-1001,"consumer_lag":-1}"#,
        ])
        #expect(parsed.partitions.map(\.partition) == [0, 1, 2, 3])
        #expect(parsed.partitions.map(\.lag) == [7, 0, 4, nil])
        #expect(parsed.partitions.map(\.currentOffset) == [3, 6, 0, 0])
        // Traffic for those whose end is known.
        #expect(parsed.traffic == [KafkaPartitionTraffic(topic: "t", partition: 0, end: 10, receivedRecords: 6, receivedBytes: 600),
                                   KafkaPartitionTraffic(topic: "t", partition: 1, end: 4, receivedRecords: 0, receivedBytes: 0),
                                   KafkaPartitionTraffic(topic: "t", partition: 2, end: 5, receivedRecords: 0, receivedBytes: 0)])
    }
}
