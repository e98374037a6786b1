import OTLP

/// `sending_queue` as the Go collector's exporters spell it: where an exporter holds data it has
/// accepted but not yet delivered.
public struct SendingQueueSettings: ConfigSection {
    public enum Sizer: String, ConfigOption { case requests, items, bytes }

    public var enabled = true
    public var num_consumers = 10
    public var queue_size = 1000
    public var sizer: Sizer = .requests
    public var block_on_overflow = false
    public var wait_for_result = false
    /// A storage extension's id (`file_storage`, `file_storage/name`): the queue is kept there.
    public var storage: String?
    /// Go's queue batching. Here a consumer merges requests that are already queued, up to
    /// `max_size` (default: 8192 items and 4 MiB); it never holds one back to wait for more, so
    /// `flush_timeout` and `min_size` have no effect (a warning says so).
    public var batch: Batch?
    public init() {}

    public struct Batch: ConfigSection {
        public enum Sizer: String, ConfigOption { case items, bytes }
        public var flush_timeout: ConfigDuration = .milliseconds(200)
        public var min_size = 8192
        public var max_size = 0
        public var sizer: Sizer?
        public var partition: ConfigNode?
        public init() {}
    }

    /// How much one consumer merges from what is already queued: items and bytes.
    public var mergeLimit: (items: Int, bytes: Int) {
        let defaults = (items: 8192, bytes: 4 << 20)
        guard let batch, batch.max_size > 0 else { return defaults }
        let sizer = batch.sizer ?? (self.sizer == .bytes ? .bytes : .items)
        return sizer == .bytes ? (Int.max, batch.max_size) : (batch.max_size, Int.max)
    }

    public init(queueSize: Int, blockOnOverflow: Bool) {
        self.init()
        queue_size = queueSize
        block_on_overflow = blockOnOverflow
    }

    public func validate(under path: String) throws(ConfigError) {
        guard enabled else { return }
        if num_consumers < 1 { throw ConfigError(path: "\(path).num_consumers", message: "must be at least 1") }
        if queue_size < 1 { throw ConfigError(path: "\(path).queue_size", message: "must be greater than 0") }
        if wait_for_result, storage != nil {
            throw ConfigError(path: "\(path).wait_for_result", message: "cannot be combined with storage: a persistent queue answers once the data is on disk")
        }
        if let storage {
            do { _ = try ComponentID(parsing: storage) } catch { throw ConfigError(path: "\(path).storage", message: error.message) }
        }
        if let batch {
            if batch.flush_timeout.nanoseconds <= 0 { throw ConfigError(path: "\(path).batch.flush_timeout", message: "must be greater than 0") }
            if batch.min_size < 0 { throw ConfigError(path: "\(path).batch.min_size", message: "must not be negative") }
            if batch.max_size < 0 { throw ConfigError(path: "\(path).batch.max_size", message: "must not be negative") }
            if batch.max_size > 0, batch.max_size < batch.min_size {
                throw ConfigError(path: "\(path).batch.max_size", message: "must be greater than or equal to min_size (\(batch.min_size))")
            }
        }
    }

    public func warnings(under path: String) -> [String] {
        guard enabled, let batch else { return [] }
        var warnings = ["\(path).batch.flush_timeout and min_size have no effect: queued requests are merged only when already waiting (up to max_size), never held back; batch with the batch processor"]
        if batch.partition != nil { warnings.append("\(path).batch.partition has no effect: only requests with the same metadata are merged") }
        return warnings
    }
}

extension SendingQueueSettings.Sizer {
    /// How much of a queue a request of `items` items and `bytes` bytes takes.
    func measure(items: Int, bytes: Int) -> Int {
        switch self {
        case .requests: 1
        case .items: items
        case .bytes: bytes
        }
    }
}

/// An exporter config that carries the Go exporter helper's keys; the collector puts a queue
/// (and, where the exporter asks, a retry loop around its whole export) in front of it.
public protocol QueuedExporterConfig: ComponentConfig {
    var sendingQueue: SendingQueueSettings { get }
    /// The exporter's `retry_on_failure`, when it has one; its own export calls apply it, and a
    /// durable queue reads it to decide whether undeliverable data is kept.
    var retryOnFailure: RetrySettings? { get }
}
