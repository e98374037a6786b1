import Dispatch
import Foundation
import OTLP
import Synchronization

/// Where a durable queue keeps its files and how it writes them.
public struct DurableQueueOptions: Sendable {
    public var directory: String
    /// Sync each group of records before answering (fdatasync); off answers after the write.
    public var sync: Bool
    /// How long to wait for another process's lock on the folder before giving up.
    public var lockTimeout: Duration
    public var segmentSize: Int
    public var permissions: UInt32

    public init(directory: String, sync: Bool = true, lockTimeout: Duration = .seconds(1), segmentSize: Int = 32 << 20, permissions: UInt32 = 0o750) {
        self.directory = directory
        self.sync = sync
        self.lockTimeout = lockTimeout
        self.segmentSize = segmentSize
        self.permissions = permissions
    }
}

/// The sending queue on disk: a log of checksummed records in segment files.
///
/// `offer` returns once its record is written and synced. Records that arrive while a sync runs
/// are written and synced together by the next one (group commit on one serial dispatch queue,
/// off the cooperative thread pool, since writes and syncs block). Consumers read records back in
/// order with one reader; a record is acknowledged when its delivery ends, the acknowledgement
/// position (every record below it is done) is kept in a small file, and a segment is deleted
/// once every record in it is done. After a crash, everything from the position on is delivered
/// again (at least once); records delivered out of order just before the crash come twice.
public final class DurableQueue: ExportQueue {
    private struct Pending {
        let payload: QueueRecord.Payload
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var closed = false
        var pending: [Pending] = []
        var flushing = false
        /// Records below this are written and synced.
        var durableEnd: UInt64
        /// The sequence number the reader hands out next.
        var readerNext: UInt64
        var ackPosition: UInt64
        var done: Set<UInt64> = []
        var segments: [UInt64]
        var consumers: [CheckedContinuation<Bool, Never>] = []
        var inFlight: [UInt64: Double] = [:]

        /// Takes out the segments that hold only delivered records (never the one being written).
        mutating func pruneSegments() -> [UInt64] {
            var removed: [UInt64] = []
            while segments.count > 1, segments[1] <= ackPosition { removed.append(segments.removeFirst()) }
            return removed
        }
    }

    public let capacity: Int
    private let sizer: SendingQueueSettings.Sizer
    private let room: QueueCapacity
    private let files: SegmentFiles
    private let spare: SpareSegment
    private let ack: AckFile
    private let lock: Mutex<DirectoryLock?>
    private let writer: Mutex<SegmentWriter>
    private let reader: Mutex<SegmentReader>
    private let state: Mutex<State>
    private let flushQueue: DispatchQueue
    /// Deletes delivered segments, so that an unlink never delays a write.
    private let cleanupQueue: DispatchQueue
    private let onDamaged: @Sendable (_ items: Int, _ message: String) -> Void
    /// What recovery found, for the opener to report.
    public let recovered: (records: Int, tornBytes: Int?, tornItems: Int?)

    /// Opens (creating or recovering) the queue in `options.directory`. A torn record at the end
    /// of the log is cut off and reported through `onDamaged`, as is every damaged record met later.
    public init(options: DurableQueueOptions, sizer: SendingQueueSettings.Sizer, capacity: Int,
                onDamaged: @escaping @Sendable (_ items: Int, _ message: String) -> Void) throws(QueueFileError) {
        try SegmentFiles.prepare(options.directory, permissions: mode_t(options.permissions))
        let lock = try DirectoryLock(directory: options.directory, timeout: options.lockTimeout)
        let files = SegmentFiles(directory: options.directory)
        let ack = try AckFile(directory: options.directory)
        let log = try RecoveredLog.recover(files, ack: ack, sizer: sizer)
        guard let last = log.segments.last else { throw QueueFileError(path: options.directory, operation: "recover", detail: "no segment") }
        let spare = SpareSegment(files: files, minimumSize: options.segmentSize)
        let writer = try SegmentWriter(files: files, spare: spare, segment: last, size: log.lastSegmentSize, nextSequence: log.nextSequence,
                                       segmentSize: options.segmentSize, sync: options.sync)
        if options.sync { files.syncDirectory() }
        self.capacity = capacity
        self.sizer = sizer
        self.files = files
        self.spare = spare
        self.ack = ack
        self.lock = Mutex(lock)
        self.writer = Mutex(writer)
        self.reader = Mutex(SegmentReader(files: files, segment: log.readerSegment, offset: log.readerOffset))
        self.state = Mutex(State(durableEnd: log.nextSequence, readerNext: log.ackPosition, ackPosition: log.ackPosition, segments: log.segments))
        self.room = QueueCapacity(capacity: capacity, used: log.used)
        self.flushQueue = DispatchQueue(label: "otelcol.queue." + options.directory)
        self.cleanupQueue = DispatchQueue(label: "otelcol.queue.cleanup." + options.directory)
        self.onDamaged = onDamaged
        self.recovered = (log.records, log.torn?.bytes, log.torn?.items)
        if let torn = log.torn {
            onDamaged(torn.items ?? 0, "a torn record (\(torn.bytes) bytes\(torn.items.map { ", \($0) items" } ?? ", item count unknown")) at the end of \(files.path(ofSegment: last)) was cut off")
        }
    }

    public var used: Int { room.used }

    /// Whether a record is written that has not been handed out yet.
    var hasReadable: Bool { state.withLock { !$0.closed && $0.readerNext < $0.durableEnd } }

    public var oldestAcceptedAt: Double? { state.withLock { $0.inFlight.values.min() } }

    public var bytesOnDisk: Int? {
        let segments = state.withLock { $0.segments }
        return segments.reduce(spare.size) { $0 + files.size(ofSegment: $1) }
    }

    public func offer(_ batch: TelemetryBatch, block: Bool) async throws {
        var batch = batch
        let payload = QueueRecord.payload(of: &batch, acceptedAt: Date().timeIntervalSince1970)
        let size = sizer.measure(items: payload.items, bytes: payload.length)
        try await room.reserve(size, block: block)
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let start: Bool? = state.withLock { s in
                    if s.closed { return nil }
                    s.pending.append(Pending(payload: payload, continuation: continuation))
                    if s.flushing { return false }
                    s.flushing = true
                    return true
                }
                switch start {
                case nil: continuation.resume(throwing: QueueCapacity.Refusal.closed)
                case true?: flushQueue.async { self.flush() }
                case false?: break
                }
            }
        } catch {
            room.release(size)
            throw error
        }
    }

    /// Writes and syncs everything pending, again and again until nothing is: each round is one
    /// group commit.
    private func flush() {
        while true {
            let batch: [Pending] = state.withLock { s in
                if s.pending.isEmpty { s.flushing = false; return [] }
                defer { s.pending = [] }
                return s.pending
            }
            if batch.isEmpty { return }
            let acknowledged = state.withLock { $0.ackPosition }
            let (result, current): (Result<UInt64, QueueFileError>, UInt64) = writer.withLock { w in
                do throws(QueueFileError) {
                    try w.append(batch.map(\.payload), acknowledgedBelow: acknowledged)
                    return (.success(w.nextSequence), w.segmentFirst)
                } catch {
                    return (.failure(error), w.segmentFirst)
                }
            }
            // The writer may have begun a segment, even when the write after that failed.
            adopt(segment: current)
            let waiting: [CheckedContinuation<Bool, Never>] = state.withLock { s in
                guard case .success(let end) = result else { return [] }
                s.durableEnd = end
                defer { s.consumers = [] }
                return s.consumers
            }
            switch result {
            case .success:
                for consumer in waiting { consumer.resume(returning: false) }
                for item in batch { item.continuation.resume() }
            case .failure(let error):
                let failure = PipelineError.retryable("the sending queue cannot store the data: \(error)")
                for item in batch { item.continuation.resume(throwing: failure) }
            }
        }
    }

    /// Records the segment the writer is on, and deletes those now wholly delivered.
    private func adopt(segment: UInt64) {
        let removed: [UInt64] = state.withLock { s in
            if s.segments.last != segment { s.segments.append(segment) }
            return s.pruneSegments()
        }
        delete(removed)
    }

    /// Deletes segments (keeping one as the spare) on the cleanup queue. The cleanup queue holds
    /// no lock when it runs (`finish` can run under the reader's lock), so the reader's lock can
    /// be taken there: the spare is taken under it, after the reader let go of the file, so the
    /// reader never reads a file that is being reused.
    private func delete(_ segments: [UInt64]) {
        guard !segments.isEmpty else { return }
        cleanupQueue.async {
            let kept: UInt64? = self.reader.withLock { r in
                r.forget(segments)
                return segments.first { self.spare.keep(self.files.path(ofSegment: $0)) }
            }
            for segment in segments where segment != kept { unlink(self.files.path(ofSegment: segment)) }
        }
    }

    public func take() async -> QueuedBatch? {
        while true {
            if let item = readNext() { return item }
            let closed = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLock { s in
                    if s.closed { return true }
                    if s.readerNext < s.durableEnd { return false }
                    s.consumers.append(continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
            if closed { return nil }
        }
    }

    public func poll() -> QueuedBatch? { readNext() }

    /// The next sound record, or nil when there is none yet (or the queue is closed). Damaged
    /// records met on the way are reported and counted as done.
    private func readNext() -> QueuedBatch? {
        reader.withLock { r -> QueuedBatch? in
            while true {
                let (closed, expected, end, segments) = state.withLock { ($0.closed, $0.readerNext, $0.durableEnd, $0.segments) }
                guard !closed, expected < end else { return nil }
                switch r.next(segments: segments) {
                case .end:
                    // Records that were written are not in the log (a segment removed from under
                    // the queue): counted as lost, so the queue does not wait for them for ever.
                    state.withLock { s in s.readerNext = end }
                    finish(Array(expected..<end), size: 0)
                    onDamaged(0, "records \(expected)..<\(end) are missing from \(files.directory)")
                    return nil
                case .record(let header, let payload):
                    guard header.sequence >= expected else { continue }
                    let size = sizer.measure(items: header.items, bytes: header.payloadLength)
                    guard let decoded = QueueRecord.decodePayload(payload, items: header.items) else {
                        passOver(from: expected, to: header.sequence, size: size)
                        onDamaged(header.items, "record \(header.sequence) in \(files.path(ofSegment: r.segment)) has a sound checksum but a layout this version cannot read")
                        continue
                    }
                    state.withLock { s in
                        s.readerNext = header.sequence + 1
                        s.inFlight[header.sequence] = decoded.acceptedAt
                        for gap in expected..<header.sequence { s.done.insert(gap) }
                    }
                    return QueuedBatch(batch: decoded.batch, size: size, bytes: decoded.requestBytes, acceptedAt: decoded.acceptedAt,
                                       sequence: header.sequence)
                case .damaged(let header?, let bytes):
                    guard header.sequence >= expected else { continue }
                    passOver(from: expected, to: header.sequence, size: sizer.measure(items: header.items, bytes: header.payloadLength))
                    onDamaged(header.items, "record \(header.sequence) (\(bytes) bytes) in \(files.path(ofSegment: r.segment)) fails its checksum")
                case .damaged(header: nil, let bytes):
                    onDamaged(0, "\(bytes) damaged bytes in \(files.path(ofSegment: r.segment)) were passed over; the records in them are lost")
                }
            }
        }
    }

    /// Counts records `from..<to` (lost in damage) and record `to` (damaged) as done.
    private func passOver(from: UInt64, to sequence: UInt64, size: Int) {
        state.withLock { s in s.readerNext = sequence + 1 }
        finish(Array(from...sequence), size: size)
    }

    public func done(_ item: QueuedBatch) {
        finish([item.sequence], size: item.size)
    }

    private func finish(_ sequences: [UInt64], size: Int) {
        let removed: [UInt64] = state.withLock { s in
            for sequence in sequences {
                s.done.insert(sequence)
                s.inFlight[sequence] = nil
            }
            let before = s.ackPosition
            while s.done.remove(s.ackPosition) != nil { s.ackPosition += 1 }
            guard s.ackPosition != before else { return [] }
            ack.write(s.ackPosition)
            return s.pruneSegments()
        }
        delete(removed)
        room.release(size)
    }

    public func close() {
        room.close()
        let waiting = state.withLock { s in
            s.closed = true
            defer { s.consumers = [] }
            return s.consumers
        }
        for consumer in waiting { consumer.resume(returning: true) }
    }

    /// Waits until writes and deletions queued so far are done.
    func settle() async {
        for queue in [flushQueue, cleanupQueue] {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                queue.async { continuation.resume() }
            }
        }
    }

    /// After `close`: waits for writes under way, then lets go of the folder's lock.
    public func release() async {
        await settle()
        let unlocked = lock.withLock { l in defer { l = nil }; return l }
        _ = unlocked
    }
}
