import Foundation
import Kafka
import Synchronization

/// Tracks records handled concurrently and says which offset may be committed: per partition,
/// the last record before which every record is done. A record not done (the receiver stopped
/// while it waited) holds its partition's offset back, so the next owner consumes it again.
///
/// It also bounds each partition's records begun and not yet committable: at `perPartition`
/// the partition is paused, and resumed when half of them are done, so a partition whose
/// records wait (a retry, a slow destination) cannot take the slots of the others.
///
/// Stores, pauses and resumes are issued to the consumer while the tracker's lock is held:
/// records finish on many threads at once, and two stores of one partition issued after the
/// lock was released could reach librdkafka in the wrong order, leaving the lower offset stored
/// (records committed again after a restart, lag that never reaches zero); a pause and a resume
/// so reordered would leave a partition paused for good.
final class OffsetTracker: Sendable {
    struct PartitionKey: Hashable, Sendable {
        let topic: String
        let partition: Int32
    }

    private struct Lane {
        /// Offsets begun and not yet committable, in the order consumed (ascending).
        var pending: [Int64] = []
        var done: Set<Int64> = []
        var paused = false
        /// The write time of the first pending record: the oldest record not yet committed.
        var oldestTimestamp: Int64?
        /// Write times of pending records, kept while they are pending.
        var timestamps: [Int64: Int64] = [:]
    }

    private let lanes = Mutex<[PartitionKey: Lane]>([:])
    let perPartition: Int

    init(perPartition: Int) {
        self.perPartition = perPartition
    }

    /// Records `record` as begun, pausing its partition when it is now full.
    func begin(_ record: KafkaRecord, _ control: some PartitionControl) {
        lanes.withLock { lanes in
            let key = PartitionKey(topic: record.topic, partition: record.partition)
            var lane = lanes[key, default: Lane()]
            lane.pending.append(record.offset)
            if let timestamp = record.timestamp {
                lane.timestamps[record.offset] = timestamp
                if lane.pending.count == 1 { lane.oldestTimestamp = timestamp }
            }
            if !lane.paused && lane.pending.count >= perPartition {
                lane.paused = true
                control.setPaused(true, topic: record.topic, partition: record.partition)
            }
            lanes[key] = lane
        }
    }

    /// Called while a run of records is polled, for each record taken (`taken` of its partition
    /// so far in the run, not yet begun): pauses the partition when its records in flight would
    /// reach the limit, so the poll stops taking more of it.
    func pauseIfFull(topic: String, partition: Int32, taken: Int, _ control: some PartitionControl) {
        lanes.withLock { lanes in
            let key = PartitionKey(topic: topic, partition: partition)
            var lane = lanes[key, default: Lane()]
            guard !lane.paused, lane.pending.count + taken >= perPartition else { return }
            lane.paused = true
            control.setPaused(true, topic: topic, partition: partition)
            lanes[key] = lane
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

    /// Per partition with records begun: the write time (epoch milliseconds) of the oldest one
    /// not yet committable, nil when every record begun is done or its time is unknown.
    func oldestPending() -> [PartitionKey: Int64?] {
        lanes.withLock { lanes in lanes.mapValues { $0.pending.isEmpty ? nil : $0.oldestTimestamp } }
    }

    /// Records `record` as done: stores the offset up to which its partition is now done, if
    /// that moved (true then), and resumes the partition when it was paused and half empties.
    @discardableResult
    func finish(_ record: KafkaRecord, _ control: some PartitionControl) -> Bool {
        lanes.withLock { lanes in
            let key = PartitionKey(topic: record.topic, partition: record.partition)
            guard var lane = lanes[key] else { return false }
            lane.done.insert(record.offset)
            var watermark: Int64?
            var advanced = 0
            while advanced < lane.pending.count, lane.done.contains(lane.pending[advanced]) {
                watermark = lane.pending[advanced]
                lane.done.remove(lane.pending[advanced])
                lane.timestamps[lane.pending[advanced]] = nil
                advanced += 1
            }
            lane.pending.removeFirst(advanced)
            lane.oldestTimestamp = lane.pending.first.flatMap { lane.timestamps[$0] }
            if let watermark { control.markDone(topic: record.topic, partition: record.partition, offset: watermark) }
            if lane.paused && lane.pending.count <= perPartition / 2 {
                lane.paused = false
                control.setPaused(false, topic: record.topic, partition: record.partition)
            }
            lanes[key] = lane
            return watermark != nil
        }
    }
}

/// What the tracker asks of the consumer. Called with the tracker's lock held: it must not call
/// back into the tracker, and should be quick.
protocol PartitionControl: Sendable {
    func setPaused(_ paused: Bool, topic: String, partition: Int32)
    /// Everything up to and including `offset` is done.
    func markDone(topic: String, partition: Int32, offset: Int64)
}

extension KafkaConsumer: PartitionControl {}
