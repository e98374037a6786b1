import OTLP

/// An extension that keeps exporter queues on disk (`file_storage`); `sending_queue.storage`
/// names it.
public protocol QueueStorage: CollectorExtension {
    /// Where and how the queue of one exporter's signal is kept.
    func queueOptions(exporter: ComponentID, signal: Signal) -> DurableQueueOptions
}
