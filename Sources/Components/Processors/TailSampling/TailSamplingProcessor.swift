import Foundation
import Logging
import OTLP
import OTTL
import Pipeline
import Prometheus
import Synchronization

/// `processors.tail_sampling`: holds each trace's spans for `decision_wait` after its first span,
/// then keeps or drops the whole trace by the policies (with the Go processor's precedence).
/// Spans arriving after the decision follow it. At most `num_traces` traces are held; the oldest
/// is decided early (not dropped) to make room. On shutdown, pending traces are decided on what
/// arrived, unless `drop_pending_traces_on_shutdown`.
///
/// Spans are accepted into memory: an upstream Kafka receiver commits them before the decision,
/// as with the Go processor, so a crash loses the traces still waiting.
public final class TailSamplingProcessor: Processor {
    public static let factory = ProcessorFactory(type: "tail_sampling", stability: .alpha, signals: [.traces], config: TailSamplingConfig.self) { settings, config, _, next in
        try TailSamplingProcessor(settings: settings, config: config, next: next)
    }

    private let settings: ComponentSettings
    private let config: TailSamplingConfig
    private let policies: [SamplingPolicy]
    private let next: any Consumer
    private let buffer: Mutex<TraceBuffer>
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    private let metrics: TailSamplingMetrics

    init(settings: ComponentSettings, config: TailSamplingConfig, next: any Consumer) throws(ConfigError) {
        self.settings = settings
        self.config = config
        self.next = next
        policies = try SamplingPolicies.build(config.policies, path: "policies")
        buffer = Mutex(TraceBuffer(limit: config.num_traces, sampledCacheSize: config.decision_cache.sampled_cache_size,
                                   notSampledCacheSize: config.decision_cache.non_sampled_cache_size))
        metrics = TailSamplingMetrics(settings: settings, policies: policies)
    }

    public func start() async throws {
        let interval = min(Duration.seconds(1), config.decision_wait.duration / 4)
        ticker.withLock { task in
            task = Task { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    await decideDue(arrivedBy: .now - config.decision_wait.duration)
                }
            }
        }
    }

    public func shutdown() async {
        let task = ticker.withLock { task in defer { task = nil }; return task }
        task?.cancel()
        await task?.value
        if config.drop_pending_traces_on_shutdown {
            let pending = buffer.withLock { $0.takeAll() }
            let spans = pending.reduce(0) { $0 + $1.1.spans.count }
            settings.telemetry.recordDropped(spans, signal: .traces, component: settings.id, reason: "pending_at_shutdown")
            if spans > 0 { settings.logger.warning("dropped \(spans) spans of \(pending.count) undecided traces at shutdown") }
            return
        }
        let forward = buffer.withLock { buffer in decide(buffer.takeAll(), in: &buffer) }
        await send(forward)
    }

    /// Spans on their way on, written as one request while their requests are open.
    struct Forward {
        var bytes: [UInt8] = []
        var spans = 0
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        guard batch.signal == .traces else { return try await next.consume(batch) }
        var batch = batch
        let byTrace: [(TraceID, [HeldSpan])]
        do { byTrace = try HeldRequest.hold(batch.encoded()) } catch {
            throw PipelineError.permanent("cannot read the batch: \(error)")
        }
        var late: [HeldSpan] = []
        var evicted: [(TraceID, TraceBuffer.Entry)] = []
        let now = ContinuousClock.now
        buffer.withLock { buffer in
            for (traceID, spans) in byTrace {
                switch buffer.receive(traceID, spans, now: now) {
                case .decided(let sampled, let fromCache):
                    if fromCache { metrics.earlyRelease(sampled: sampled) }
                    if sampled { late += spans } else { metrics.lateDropped.increment(by: Int64(spans.count)) }
                case .held(let new, let pushedOut):
                    if new { metrics.newTraces.increment() }
                    if let pushedOut, pushedOut.1.sampled == nil { evicted.append(pushedOut) }
                }
            }
            metrics.onMemory.set(Double(buffer.count))
        }
        var open = RequestOpener()
        if !evicted.isEmpty {
            metrics.decidedEarly.increment(by: Int64(evicted.count))
            let decided = evicted.map { traceID, entry in (traceID, evaluate(traceID, entry, &open), entry.spans) }
            buffer.withLock { buffer in for (traceID, sampled, _) in decided { buffer.remember(traceID, sampled: sampled) } }
            late += decided.flatMap { $0.1 ? $0.2 : [] }
        }
        await send(write(late, &open))
    }

    private func decideDue(arrivedBy cutoff: ContinuousClock.Instant) async {
        // Taken and decided under one lock, so spans arriving meanwhile find the decision.
        let forward = buffer.withLock { buffer in decide(buffer.takeDue(arrivedBy: cutoff), in: &buffer) }
        await send(forward)
    }

    /// Decides the traces, records the decisions, and returns the spans of the sampled ones.
    private func decide(_ traces: [(TraceID, TraceBuffer.Entry)], in buffer: inout TraceBuffer) -> Forward {
        var forward: [HeldSpan] = []
        var open = RequestOpener()
        for (traceID, entry) in traces {
            let sampled = evaluate(traceID, entry, &open)
            buffer.decide(traceID, sampled: sampled)
            if sampled { forward += entry.spans }
        }
        metrics.onMemory.set(Double(buffer.count))
        return write(forward, &open)
    }

    /// The spans as one request. Held bytes were read when they arrived; should they not read
    /// now (a defect), the spans are counted and logged as dropped.
    private func write(_ spans: [HeldSpan], _ open: inout RequestOpener) -> Forward {
        guard !spans.isEmpty else { return Forward() }
        do {
            return Forward(bytes: try HeldSpans.request(spans, &open), spans: spans.count)
        } catch {
            settings.telemetry.recordDropped(spans.count, signal: .traces, component: settings.id, reason: "unreadable_held_spans")
            settings.logger.error("dropped \(spans.count) sampled spans: cannot read them again: \(error)")
            return Forward()
        }
    }

    private func evaluate(_ traceID: TraceID, _ entry: TraceBuffer.Entry, _ open: inout RequestOpener) -> Bool {
        let sampled: Bool
        do {
            let view = try TraceView(traceID: traceID, spans: entry.spans, &open)
            sampled = SamplingPolicies.combine(policies, view, sampleOnFirstMatch: config.sample_on_first_match) { policy, decision in
                metrics.record(policy, decision)
            }
        } catch {
            // Held bytes were validated when they arrived; only a defect gets here.
            settings.logger.error("cannot read the held spans of a trace, not sampled: \(error)")
            sampled = false
        }
        metrics.global(sampled: sampled)
        return sampled
    }

    /// Hands sampled spans on; nobody upstream waits for them any more, so a failure is retried
    /// for a while and then counted and logged as a drop.
    private func send(_ forward: Forward) async {
        guard forward.spans > 0 else { return }
        let batch = TelemetryBatch(signal: .traces, trustedProtobuf: forward.bytes, itemCount: forward.spans, metadata: .empty)
        var waits = Backoff(initial: .milliseconds(100), maximum: .seconds(5), maxElapsed: .seconds(30)).start()
        while true {
            do {
                try await next.consume(batch)
                return
            } catch {
                let failure = PipelineError(classifying: error)
                guard failure.isRetryable, await waits.wait() == .waited else {
                    settings.telemetry.recordDropped(batch.itemCount, signal: .traces, component: settings.id, reason: "export_failed")
                    settings.logger.error("dropped \(batch.itemCount) sampled spans: \(failure.message)")
                    return
                }
            }
        }
    }
}

/// The Go processor's metrics, with the `otelcol_processor_tail_sampling_` prefix. The counters
/// are made once: looking one up by name and labels costs more than a trace's decision.
struct TailSamplingMetrics: Sendable {
    let newTraces: Counter
    let onMemory: Gauge
    let decidedEarly: Counter
    let lateDropped: Counter
    /// In the order of the processor's policies.
    private let perPolicy: [(sampled: Counter, notSampled: Counter, error: Counter)]
    private let globalSampled: Counter, globalNotSampled: Counter
    private let releasedSampled: Counter, releasedNotSampled: Counter

    init(settings: ComponentSettings, policies: [SamplingPolicy]) {
        let telemetry = settings.telemetry
        let prefix = "otelcol_processor_tail_sampling_"
        let instance = settings.id.name.map { "\($0)." } ?? ""
        let labels = [("processor", settings.id.description)]
        newTraces = telemetry.counter(prefix + "new_trace_id_received_total", labels)
        onMemory = telemetry.gauge(prefix + "sampling_traces_on_memory", labels)
        decidedEarly = telemetry.counter(prefix + "traces_decided_early_total", labels)
        lateDropped = telemetry.counter(prefix + "late_spans_not_sampled_total", labels)
        perPolicy = policies.map { policy in
            let label = ("policy", instance + policy.name)
            return (telemetry.counter(prefix + "count_traces_sampled_total", [label, ("sampled", "true")]),
                    telemetry.counter(prefix + "count_traces_sampled_total", [label, ("sampled", "false")]),
                    telemetry.counter(prefix + "sampling_policy_evaluation_error_total", [label]))
        }
        globalSampled = telemetry.counter(prefix + "global_count_traces_sampled_total", [("sampled", "true")])
        globalNotSampled = telemetry.counter(prefix + "global_count_traces_sampled_total", [("sampled", "false")])
        releasedSampled = telemetry.counter(prefix + "early_releases_from_cache_decision_total", [("sampled", "true")])
        releasedNotSampled = telemetry.counter(prefix + "early_releases_from_cache_decision_total", [("sampled", "false")])
    }

    func record(_ policy: Int, _ decision: SamplingDecision) {
        let counters = perPolicy[policy]
        switch decision {
        case .error: counters.error.increment()
        case .sampled, .invertSampled: counters.sampled.increment()
        case .notSampled, .invertNotSampled, .dropped: counters.notSampled.increment()
        }
    }

    func global(sampled: Bool) { (sampled ? globalSampled : globalNotSampled).increment() }

    func earlyRelease(sampled: Bool) { (sampled ? releasedSampled : releasedNotSampled).increment() }
}
