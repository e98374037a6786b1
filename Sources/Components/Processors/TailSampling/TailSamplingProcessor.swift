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
            let spans = pending.reduce(0) { $0 + $1.1.spanCount }
            settings.telemetry.recordDropped(spans, signal: .traces, component: settings.id, reason: "pending_at_shutdown")
            if spans > 0 { settings.logger.warning("dropped \(spans) spans of \(pending.count) undecided traces at shutdown") }
            return
        }
        let forward = buffer.withLock { buffer in decide(buffer.takeAll(), in: &buffer) }
        if !forward.isEmpty { await send(forward) }
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        guard batch.signal == .traces else { return try await next.consume(batch) }
        var batch = batch
        let byTrace = try Self.partsByTrace(batch.encoded())
        var forward: [[UInt8]] = []
        var evicted: [(Data, TraceBuffer.Entry)] = []
        let now = ContinuousClock.now
        buffer.withLock { buffer in
            for (traceID, (fragments, spans)) in byTrace {
                if let known = buffer.decision(traceID) {
                    if known.fromCache { metrics.earlyRelease(sampled: known.sampled) }
                    if known.sampled { forward += fragments } else { metrics.lateDropped.increment(by: Int64(spans)) }
                    continue
                }
                if buffer.entries[traceID] == nil { metrics.newTraces.increment() }
                if let pushedOut = buffer.add(traceID, fragments, spans: spans, now: now), pushedOut.1.sampled == nil {
                    evicted.append(pushedOut)
                }
            }
            metrics.onMemory.set(Double(buffer.count))
        }
        if !evicted.isEmpty {
            metrics.decidedEarly.increment(by: Int64(evicted.count))
            let decided = evicted.map { traceID, entry in (traceID, evaluate(traceID, entry), entry.fragments) }
            buffer.withLock { buffer in for (traceID, sampled, _) in decided { buffer.remember(traceID, sampled: sampled) } }
            forward += decided.flatMap { $0.1 ? $0.2 : [] }
        }
        if !forward.isEmpty { await send(forward) }
    }

    /// The request's spans regrouped by trace id as encoded requests, without decoding them.
    static func partsByTrace(_ bytes: [UInt8]) throws(PipelineError) -> [(Data, ([[UInt8]], Int))] {
        let parts: [WireScan.TracePart]
        do { parts = try WireScan.splitByTraceID(.traces, bytes) ?? [] } catch {
            throw PipelineError.permanent("cannot read the batch: \(error)")
        }
        var order: [Data] = []
        var groups: [Data: ([[UInt8]], Int)] = [:]
        for part in parts {
            let traceID = Data(part.traceID)
            if groups[traceID] == nil { order.append(traceID) }
            groups[traceID, default: ([], 0)].0.append(part.bytes)
            groups[traceID, default: ([], 0)].1 += part.items
        }
        return order.map { ($0, groups[$0] ?? ([], 0)) }
    }

    private func decideDue(arrivedBy cutoff: ContinuousClock.Instant) async {
        // Taken and decided under one lock, so spans arriving meanwhile find the decision.
        let forward = buffer.withLock { buffer in decide(buffer.takeDue(arrivedBy: cutoff), in: &buffer) }
        if !forward.isEmpty { await send(forward) }
    }

    /// Decides the traces, records the decisions, and returns the spans of the sampled ones.
    private func decide(_ traces: [(Data, TraceBuffer.Entry)], in buffer: inout TraceBuffer) -> [[UInt8]] {
        var forward: [[UInt8]] = []
        for (traceID, entry) in traces {
            let sampled = evaluate(traceID, entry)
            buffer.decide(traceID, sampled: sampled)
            if sampled { forward += entry.fragments }
        }
        metrics.onMemory.set(Double(buffer.count))
        return forward
    }

    private func evaluate(_ traceID: Data, _ entry: TraceBuffer.Entry) -> Bool {
        let fragments = entry.fragments.compactMap { try? ExportTraceServiceRequest(serializedBytes: $0) }.flatMap(\.resourceSpans)
        let view = TraceView(traceID: traceID, spans: fragments.flatMap { fragment in
            fragment.scopeSpans.flatMap { scope in scope.spans.map { (fragment.resource, scope.scope, $0) } }
        })
        let sampled = SamplingPolicies.combine(policies, view, sampleOnFirstMatch: config.sample_on_first_match) { policy, decision in
            metrics.record(policy, decision)
        }
        metrics.global(sampled: sampled)
        return sampled
    }

    /// Hands sampled spans on; nobody upstream waits for them any more, so a failure is retried
    /// for a while and then counted and logged as a drop.
    private func send(_ fragments: [[UInt8]]) async {
        // Encoded requests one after another are one request holding all their resource entries.
        let batch: TelemetryBatch
        do {
            batch = try TelemetryBatch(signal: .traces, protobuf: fragments.flatMap { $0 })
        } catch {
            let spans = fragments.compactMap { try? ExportTraceServiceRequest(serializedBytes: $0) }
                .reduce(0) { $0 + OTLPRequest.traces($1).itemCount }
            settings.telemetry.recordDropped(spans, signal: .traces, component: settings.id, reason: "unreadable_held_spans")
            settings.logger.error("dropped \(spans) sampled spans: cannot rebuild a request from them: \(error)")
            return
        }
        var backoff = Duration.milliseconds(100)
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                try await next.consume(batch)
                return
            } catch {
                let failure = PipelineError(classifying: error)
                guard failure.isRetryable, ContinuousClock.now + backoff < deadline else {
                    settings.telemetry.recordDropped(batch.itemCount, signal: .traces, component: settings.id, reason: "export_failed")
                    settings.logger.error("dropped \(batch.itemCount) sampled spans: \(failure.message)")
                    return
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }
}

/// The Go processor's metrics, with the `otelcol_processor_tail_sampling_` prefix.
struct TailSamplingMetrics: Sendable {
    let newTraces: Counter
    let onMemory: Gauge
    let decidedEarly: Counter
    let lateDropped: Counter
    private let telemetry: CollectorTelemetry
    private let policyLabels: [String: String]
    private let prefix = "otelcol_processor_tail_sampling_"

    init(settings: ComponentSettings, policies: [SamplingPolicy]) {
        telemetry = settings.telemetry
        let instance = settings.id.name.map { "\($0)." } ?? ""
        policyLabels = Dictionary(policies.map { ($0.name, instance + $0.name) }, uniquingKeysWith: { a, _ in a })
        let labels = [("processor", settings.id.description)]
        newTraces = telemetry.counter(prefix + "new_trace_id_received_total", labels)
        onMemory = telemetry.gauge(prefix + "sampling_traces_on_memory", labels)
        decidedEarly = telemetry.counter(prefix + "traces_decided_early_total", labels)
        lateDropped = telemetry.counter(prefix + "late_spans_not_sampled_total", labels)
    }

    func record(_ policy: SamplingPolicy, _ decision: SamplingDecision) {
        let sampled = decision == .sampled || decision == .invertSampled
        if decision == .error {
            telemetry.counter(prefix + "sampling_policy_evaluation_error_total", [("policy", policyLabels[policy.name] ?? policy.name)]).increment()
            return
        }
        telemetry.counter(prefix + "count_traces_sampled_total", [("policy", policyLabels[policy.name] ?? policy.name), ("sampled", String(sampled))]).increment()
    }

    func global(sampled: Bool) {
        telemetry.counter(prefix + "global_count_traces_sampled_total", [("sampled", String(sampled))]).increment()
    }

    func earlyRelease(sampled: Bool) {
        telemetry.counter(prefix + "early_releases_from_cache_decision_total", [("sampled", String(sampled))]).increment()
    }
}
