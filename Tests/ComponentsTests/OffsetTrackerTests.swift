import Foundation
import Synchronization
import Testing
@testable import Components
@testable import Kafka

/// The rules that decide what the kafka receiver commits: only contiguous runs of finished
/// records, in order, and a partition paused while too many of its records are open.
@Suite struct OffsetTrackerTests {
    /// Records what the tracker asked of the consumer, in the order it asked.
    final class Control: PartitionControl {
        enum Event: Equatable {
            case pause(Int32), resume(Int32)
            case store(Int32, Int64)
        }

        private let log = Mutex<[Event]>([])
        var events: [Event] { log.withLock { $0 } }

        func setPaused(_ paused: Bool, topic: String, partition: Int32) {
            log.withLock { $0.append(paused ? .pause(partition) : .resume(partition)) }
        }

        func markDone(topic: String, partition: Int32, offset: Int64) {
            log.withLock { $0.append(.store(partition, offset)) }
        }

        func stores(_ partition: Int32) -> [Int64] {
            events.compactMap { if case .store(partition, let offset) = $0 { offset } else { nil } }
        }
    }

    func record(_ partition: Int32, _ offset: Int64) -> KafkaRecord {
        KafkaRecord(topic: "t", partition: partition, offset: offset, key: nil, value: [], headers: [])
    }

    @Test func outOfOrderCompletionStoresOnlyContiguousRuns() {
        let tracker = OffsetTracker(perPartition: 64)
        let control = Control()
        for offset in Int64(10)...14 { tracker.begin(record(0, offset), control) }
        #expect(!tracker.finish(record(0, 12), control))
        #expect(!tracker.finish(record(0, 11), control))
        #expect(control.stores(0) == [])
        #expect(tracker.finish(record(0, 10), control))
        #expect(control.stores(0) == [12])
        #expect(tracker.finish(record(0, 14), control) == false)
        #expect(tracker.finish(record(0, 13), control))
        #expect(control.stores(0) == [12, 14])
    }

    @Test func theOldestRecordNotYetCommittedIsTheFirstPending() {
        let tracker = OffsetTracker(perPartition: 64)
        let control = Control()
        func timed(_ offset: Int64) -> KafkaRecord {
            KafkaRecord(topic: "t", partition: 0, offset: offset, key: nil, value: [], headers: [], timestamp: 1_000 + offset)
        }
        let key = OffsetTracker.PartitionKey(topic: "t", partition: 0)
        for offset in Int64(0)...3 { tracker.begin(timed(offset), control) }
        #expect(tracker.oldestPending()[key] == 1_000)
        tracker.finish(timed(1), control)
        #expect(tracker.oldestPending()[key] == 1_000, "offset 0 still holds the partition back")
        tracker.finish(timed(0), control)
        #expect(tracker.oldestPending()[key] == 1_002)
        tracker.finish(timed(3), control)
        tracker.finish(timed(2), control)
        #expect(tracker.oldestPending()[key] == .some(nil), "caught up")
        tracker.begin(timed(4), control)
        #expect(tracker.oldestPending()[key] == 1_004)
    }

    @Test func partitionsAreIndependent() {
        let tracker = OffsetTracker(perPartition: 64)
        let control = Control()
        tracker.begin(record(0, 0), control)
        tracker.begin(record(1, 0), control)
        tracker.begin(record(0, 1), control)
        tracker.finish(record(0, 1), control)
        tracker.finish(record(1, 0), control)
        #expect(control.stores(0) == [])
        #expect(control.stores(1) == [0])
        tracker.finish(record(0, 0), control)
        #expect(control.stores(0) == [1])
    }

    @Test func aFullPartitionIsPausedAndResumedWhenHalfIsDone() {
        let tracker = OffsetTracker(perPartition: 4)
        let control = Control()
        for offset in Int64(0)..<4 { tracker.begin(record(0, offset), control) }
        #expect(control.events == [.pause(0)])
        tracker.finish(record(0, 0), control)
        #expect(control.events == [.pause(0), .store(0, 0)])
        tracker.finish(record(0, 1), control)
        #expect(control.events == [.pause(0), .store(0, 0), .store(0, 1), .resume(0)])
        // Paused once: a poll run that takes more of it does not pause it twice.
        tracker.pauseIfFull(topic: "t", partition: 0, taken: 2, control)
        #expect(control.events.last == .pause(0))
        tracker.pauseIfFull(topic: "t", partition: 0, taken: 3, control)
        #expect(control.events.filter { $0 == .pause(0) }.count == 2)
    }

    @Test func aPollRunPausesBeforeThePartitionFills() {
        let tracker = OffsetTracker(perPartition: 4)
        let control = Control()
        tracker.begin(record(0, 0), control)
        tracker.pauseIfFull(topic: "t", partition: 0, taken: 2, control)
        #expect(control.events == [])
        tracker.pauseIfFull(topic: "t", partition: 0, taken: 3, control)
        #expect(control.events == [.pause(0)])
        // The records of the run are begun after the poll: no second pause.
        for offset in Int64(1)...3 { tracker.begin(record(0, offset), control) }
        #expect(control.events == [.pause(0)])
    }

    @Test func aRevokedPartitionForgetsItsRecords() {
        let tracker = OffsetTracker(perPartition: 64)
        let control = Control()
        tracker.begin(record(0, 5), control)
        tracker.finish(record(0, 5), control)
        tracker.waitForIdle([("t", 0)], timeout: .milliseconds(10))
        // A record finishing after its partition was revoked stores nothing: the partition's
        // next owner reads it again from the committed offset.
        tracker.begin(record(1, 0), control)
        tracker.waitForIdle([("t", 1)], timeout: .milliseconds(10))
        #expect(!tracker.finish(record(1, 0), control))
        #expect(control.stores(1) == [])
        #expect(control.stores(0) == [5])
    }

    /// Many records finishing at once on many threads: the consumer is told of every partition's
    /// progress in increasing order, ending at its last record.
    @Test func concurrentFinishesStoreOffsetsInIncreasingOrder() async {
        let tracker = OffsetTracker(perPartition: 10_000)
        let control = Control()
        let perPartition = 2_000
        for partition in Int32(0)..<4 {
            for offset in 0..<perPartition { tracker.begin(record(partition, Int64(offset)), control) }
        }
        await withTaskGroup(of: Void.self) { group in
            for partition in Int32(0)..<4 {
                for offset in (0..<perPartition).shuffled() {
                    group.addTask { tracker.finish(record(partition, Int64(offset)), control) }
                }
            }
        }
        for partition in Int32(0)..<4 {
            let stores = control.stores(partition)
            #expect(stores.last == Int64(perPartition - 1))
            #expect(stores == stores.sorted() && Set(stores).count == stores.count, "partition \(partition) stored \(stores.prefix(20))…")
        }
    }
}
