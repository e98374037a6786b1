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
    /// Accepted for the Go keys' sake; batching is the `batch` processor's (a warning says so).
    public var batch: ConfigNode?
    public init() {}

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
    }

    public func warnings(under path: String) -> [String] {
        guard enabled, batch != nil else { return [] }
        return ["\(path).batch is accepted but has no effect: put a batch processor in the pipeline to batch"]
    }

    /// How much of the queue one batch takes.
    func size(of batch: inout TelemetryBatch) -> Int {
        switch sizer {
        case .requests: 1
        case .items: batch.itemCount
        case .bytes: batch.encodedByteCount()
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
