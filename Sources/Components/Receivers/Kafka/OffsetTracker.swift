import Foundation
import Kafka
import Synchronization

/// Tracks records handled concurrently and says which offset may be committed: per partition,
/// the last record before which every record is done. A record not done (the receiver stopped
/// while it waited) holds its partition's offset back, so the next owner consumes it again.
///
/// It also bounds each partition's records begun and not yet committable: at `perPartition`
/// the partition is to be paused, and resumed when half of them are done, so a partition whose
/// records wait (a retry, a slow destination) cannot take the slots of the others.
final class OffsetTracker: Sendable {
    private struct PartitionKey: Hashable {
        let topic: String
        let partition: Int32
    }

    private struct Lane {
        /// Offsets begun and not yet committable, in the order consumed (ascending).
        var pending: [Int64] = []
        var done: Set<Int64> = []
        var paused = false
    }

    private let lanes = Mutex<[PartitionKey: Lane]>([:])
    let perPartition: Int

    init(perPartition: Int) {
        self.perPartition = perPartition
    }

    /// Records `record` as begun; true when its partition is now full and should be paused.
    func begin(_ record: KafkaRecord) -> Bool {
        lanes.withLock { lanes in
            let key = PartitionKey(topic: record.topic, partition: record.partition)
            var lane = lanes[key, default: Lane()]
            lane.pending.append(record.offset)
            let pause = !lane.paused && lane.pending.count >= perPartition
            if pause { lane.paused = true }
            lanes[key] = lane
            return pause
        }
    }

    /// Called while a run of records is polled, for each record taken (`taken` of its partition
    /// so far in the run, not yet begun): true, with the partition marked paused, when its
    /// records in flight would reach the limit, so the poll stops taking more of it.
    func pauseIfFull(topic: String, partition: Int32, taken: Int) -> Bool {
        lanes.withLock { lanes in
            let key = PartitionKey(topic: topic, partition: partition)
            var lane = lanes[key, default: Lane()]
            guard !lane.paused, lane.pending.count + taken >= perPartition else { return false }
            lane.paused = true
            lanes[key] = lane
            return true
        }
    }

    /// Waits until no record of these partitions is in flight, or `timeout` passed. Blocks the
    /// calling thread (librdkafka's rebalance callback runs on the consumer's poll thread).
    func waitForIdle(_ partitions: [(topic: String, partition: Int32)], timeout: Duration) {
        let keys = partitions.map { PartitionKey(topic: $0.topic, partition: $0.partition) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let busy = lanes.withLock { lanes in keys.contains { !(lanes[$0]?.pending.isEmpty ?? true) } }
            if !busy { break }
            usleep(2_000)
        }
        lanes.withLock { lanes in for key in keys { lanes[key] = nil } }
    }

    /// Records `record` as done; returns the offset up to which the partition is now done, if it
    /// moved, and whether a paused partition should be resumed.
    func finish(_ record: KafkaRecord) -> (committable: Int64?, resume: Bool) {
        lanes.withLock { lanes in
            let key = PartitionKey(topic: record.topic, partition: record.partition)
            guard var lane = lanes[key] else { return (nil, false) }
            lane.done.insert(record.offset)
            var watermark: Int64?
            var advanced = 0
            while advanced < lane.pending.count, lane.done.contains(lane.pending[advanced]) {
                watermark = lane.pending[advanced]
                lane.done.remove(lane.pending[advanced])
                advanced += 1
            }
            lane.pending.removeFirst(advanced)
            let resume = lane.paused && lane.pending.count <= perPartition / 2
            if resume { lane.paused = false }
            lanes[key] = lane
            return (watermark, resume)
        }
    }
}
