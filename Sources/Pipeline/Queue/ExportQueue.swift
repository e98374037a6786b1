import OTLP

/// A batch an exporter queue holds, with what the queue needs to account for it.
public struct QueuedBatch: Sendable {
    public var batch: TelemetryBatch
    /// Its size in the queue's sizer units.
    public let size: Int
    /// Its protobuf size, measured once when it was queued.
    public let bytes: Int
    /// When it was accepted (wall clock, so a durable queue's items keep their age across restarts).
    public let acceptedAt: Double
    /// Its place in a durable queue's log; 0 in memory.
    public let sequence: UInt64
}

/// Where an exporter keeps what it accepted: in memory, or in a log on disk. `offer` returns once
/// the batch is held (for a durable queue: written and synced); the queue's consumers `take`
/// batches and say `done` when each has been delivered or given up on. Each queue measures what
/// it holds with its sizer.
public protocol ExportQueue: Sendable {
    func offer(_ batch: TelemetryBatch, block: Bool) async throws
    /// The next batch; nil once the queue is closed and has nothing more to hand out.
    func take() async -> QueuedBatch?
    /// The next batch if one is ready now, without waiting.
    func poll() -> QueuedBatch?
    func done(_ item: QueuedBatch)
    /// Refuses new batches. A memory queue still hands out what it holds; a durable one stops
    /// handing out and keeps the rest for the next start.
    func close()
    /// Held now, in sizer units (including batches being delivered).
    var used: Int { get }
    var capacity: Int { get }
    /// When the oldest batch not yet delivered was accepted.
    var oldestAcceptedAt: Double? { get }
    /// Bytes of queue files, for a durable queue.
    var bytesOnDisk: Int? { get }
}
