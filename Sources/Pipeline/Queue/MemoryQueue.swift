import Foundation
import OTLP
import Synchronization

/// The in-memory sending queue: a FIFO bounded by `QueueCapacity`. A batch's room is given back
/// when its delivery ends, so memory is bounded by what is queued and what is in flight together.
final class MemoryQueue: ExportQueue {
    private struct State {
        var items: [QueuedBatch] = []
        var head = 0
        var consumers: [CheckedContinuation<QueuedBatch?, Never>] = []
        var closed = false
        /// Acceptance times of batches not yet done, oldest first; entries for finished batches
        /// are dropped lazily.
        var accepted: [(at: Double, id: UInt64)] = []
        var acceptedHead = 0
        var finished: Set<UInt64> = []
        var nextID: UInt64 = 1

        mutating func pop() -> QueuedBatch? {
            guard head < items.count else { return nil }
            let item = items[head]
            head += 1
            if head > 1024, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return item
        }
    }

    private let room: QueueCapacity
    private let sizer: SendingQueueSettings.Sizer
    private let state = Mutex(State())

    init(capacity: Int, sizer: SendingQueueSettings.Sizer) {
        room = QueueCapacity(capacity: capacity)
        self.sizer = sizer
    }

    var capacity: Int { room.capacity }
    var used: Int { room.used }
    var bytesOnDisk: Int? { nil }
    var oldestAcceptedAt: Double? {
        state.withLock { s in
            while s.acceptedHead < s.accepted.count, s.finished.remove(s.accepted[s.acceptedHead].id) != nil { s.acceptedHead += 1 }
            if s.acceptedHead > 1024, s.acceptedHead * 2 > s.accepted.count {
                s.accepted.removeFirst(s.acceptedHead)
                s.acceptedHead = 0
            }
            return s.acceptedHead < s.accepted.count ? s.accepted[s.acceptedHead].at : nil
        }
    }

    func offer(_ batch: TelemetryBatch, block: Bool) async throws {
        // Measured on the batch that is kept: a batch held only as its model is encoded here
        // once, and the exporter then sends those bytes.
        var batch = batch
        let bytes = batch.encodedByteCount()
        let size = sizer.measure(items: batch.itemCount, bytes: bytes)
        try await room.reserve(size, block: block)
        let now = Date().timeIntervalSince1970
        let consumer: (CheckedContinuation<QueuedBatch?, Never>, QueuedBatch)? = state.withLock { s in
            let item = QueuedBatch(batch: batch, size: size, bytes: bytes, acceptedAt: now, sequence: s.nextID)
            s.nextID += 1
            s.accepted.append((now, item.sequence))
            if !s.consumers.isEmpty { return (s.consumers.removeFirst(), item) }
            s.items.append(item)
            return nil
        }
        if let (continuation, item) = consumer { continuation.resume(returning: item) }
    }

    func take() async -> QueuedBatch? {
        await withCheckedContinuation { (continuation: CheckedContinuation<QueuedBatch?, Never>) in
            let ready: QueuedBatch?? = state.withLock { s in
                if let item = s.pop() { return .some(item) }
                if s.closed { return .some(nil) }
                s.consumers.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func poll() -> QueuedBatch? {
        state.withLock { $0.pop() }
    }

    func done(_ item: QueuedBatch) {
        state.withLock { s in _ = s.finished.insert(item.sequence) }
        room.release(item.size)
    }

    func close() {
        room.close()
        let waiting = state.withLock { s in
            s.closed = true
            // Consumers wait only while nothing is queued, so all of them can stop now.
            defer { s.consumers = [] }
            return s.consumers
        }
        for consumer in waiting { consumer.resume(returning: nil) }
    }

    /// What is still queued (not handed out), taken out for counting as dropped.
    func drainRemaining() -> [QueuedBatch] {
        state.withLock { s in
            var rest: [QueuedBatch] = []
            while let item = s.pop() { rest.append(item) }
            return rest
        }
    }
}
