import OTLP
import Pipeline
import Prometheus

/// The `memory_limiter` processor: refuses new data with a retryable error while resident
/// memory is at or above the soft limit, so receivers answer "retry later" instead of the
/// process growing until it is killed.
public final class MemoryLimiterProcessor: Processor {
    private let settings: ComponentSettings
    private let monitor: MemoryMonitor
    private let next: any Consumer
    private let accepted: [Signal: Counter]
    private let refused: [Signal: Counter]

    init(settings: ComponentSettings, monitor: MemoryMonitor, next: any Consumer) {
        self.settings = settings
        self.monitor = monitor
        self.next = next
        let labels = [("processor", settings.id.description)]
        var accepted: [Signal: Counter] = [:], refused: [Signal: Counter] = [:]
        for signal in Signal.allCases {
            accepted[signal] = settings.telemetry.counter("otelcol_processor_memory_limiter_accepted_\(signal.itemName)_total", labels)
            refused[signal] = settings.telemetry.counter("otelcol_processor_memory_limiter_refused_\(signal.itemName)_total", labels)
        }
        self.accepted = accepted
        self.refused = refused
    }

    public func start() async throws { monitor.start() }
    public func shutdown() async { monitor.stop() }

    public func consume(_ batch: TelemetryBatch) async throws {
        if monitor.isRefusing {
            refused[batch.signal]?.increment(by: Int64(batch.itemCount))
            throw PipelineError.retryable("data refused due to high memory usage", retryAfter: .seconds(1))
        }
        accepted[batch.signal]?.increment(by: Int64(batch.itemCount))
        try await next.consume(batch)
    }
}
