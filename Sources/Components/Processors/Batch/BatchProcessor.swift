import OTLP
import Pipeline
import Prometheus
import Synchronization

/// The `batch` processor. Items are collected per metadata shard until `send_batch_size` is
/// reached or `timeout` passes, then sent as one batch, cut at `send_batch_max_size`.
///
/// Unlike the Go collector, a caller returns only when the export carrying its items finished,
/// and with that export's outcome, so a receiver answers its client truthfully
/// (docs/COMPATIBILITY.md). Batching is byte concatenation of the encoded requests; only a cut
/// inside one incoming request decodes it.
public final class BatchProcessor: Processor {
    private struct Pending {
        var batch: TelemetryBatch
        let waiter: BatchWaiter
    }

    private struct Shard {
        var pending: [Pending] = []
        var items = 0
        var timer: Task<Void, Never>?
    }

    private let settings: ComponentSettings
    private let config: BatchConfig
    private let next: any Consumer
    private let shards = Mutex<[[String]: Shard]>([:])
    private let inFlight = Mutex<[Int: Task<Void, Never>]>([:])
    private let taskCounter = Atomic<Int>(0)
    private let sendSize: ValueHistogram
    private let sizeTriggers: Counter
    private let timeoutTriggers: Counter
    /// How a shard's timeout is waited out; tests pass a clock they move themselves.
    private let sleep: @Sendable (Duration) async throws -> Void

    init(settings: ComponentSettings, config: BatchConfig, signal: Signal, next: any Consumer,
         sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.settings = settings
        self.config = config
        self.next = next
        self.sleep = sleep
        let labels = [("processor", settings.id.description)]
        sendSize = settings.telemetry.histogram("otelcol_processor_batch_batch_send_size", labels, buckets: [10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000, 50000, 100000])
        sizeTriggers = settings.telemetry.counter("otelcol_processor_batch_batch_size_trigger_send_total", labels)
        timeoutTriggers = settings.telemetry.counter("otelcol_processor_batch_timeout_trigger_send_total", labels)
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        guard batch.itemCount > 0 else { return }
        let key = config.metadata_keys.map { key in
            batch.metadata.headers[key.lowercased()]?.joined(separator: ",") ?? ""
        }
        let waiter = BatchWaiter(items: batch.itemCount)
        let ready: [[Pending]] = try shards.withLock { shards in
            if shards[key] == nil, !config.metadata_keys.isEmpty, config.metadata_cardinality_limit > 0,
               shards.count >= config.metadata_cardinality_limit {
                throw PipelineError.permanent("too many batcher metadata-value combinations (limit \(config.metadata_cardinality_limit))")
            }
            var shard = shards[key] ?? Shard()
            shard.pending.append(Pending(batch: batch, waiter: waiter))
            shard.items += batch.itemCount
            var ready: [[Pending]] = []
            let immediate = config.timeout.nanoseconds == 0 || config.send_batch_size == 0
            while shard.items > 0, immediate || shard.items >= config.send_batch_size {
                ready.append(Self.take(&shard, max: config.send_batch_max_size))
            }
            if shard.items > 0, shard.timer == nil {
                shard.timer = armTimer(key)
            } else if shard.items == 0 {
                shard.timer?.cancel()
                shard.timer = nil
            }
            shards[key] = shard
            return ready
        }
        if !ready.isEmpty { sizeTriggers.increment(by: Int64(ready.count)) }
        for parts in ready { await send(parts) }
        try await waiter.wait()
    }

    /// Cuts one batch's worth of pending items off the front of a shard.
    private static func take(_ shard: inout Shard, max: Int) -> [Pending] {
        guard max > 0, shard.items > max else {
            defer { shard.pending = []; shard.items = 0 }
            return shard.pending
        }
        var taken: [Pending] = []
        var budget = max
        while budget > 0, !shard.pending.isEmpty {
            var first = shard.pending[0]
            if first.batch.itemCount <= budget {
                budget -= first.batch.itemCount
                taken.append(shard.pending.removeFirst())
                continue
            }
            if let (head, tail) = try? first.batch.split(first: budget) {
                taken.append(Pending(batch: head, waiter: first.waiter))
                shard.pending[0] = Pending(batch: tail, waiter: first.waiter)
            } else {
                taken.append(shard.pending.removeFirst())
            }
            budget = 0
        }
        shard.items = shard.pending.reduce(0) { $0 + $1.batch.itemCount }
        return taken
    }

    private func armTimer(_ key: [String]) -> Task<Void, Never> {
        let timeout = config.timeout.duration
        let sleep = self.sleep
        return Task { [weak self] in
            try? await sleep(timeout)
            guard !Task.isCancelled, let self else { return }
            await self.flush(key, cause: .timeout)
        }
    }

    private enum FlushCause { case timeout, shutdown }

    /// Sends everything pending in a shard (in max-size pieces).
    private func flush(_ key: [String], cause: FlushCause) async {
        let ready: [[Pending]] = shards.withLock { shards in
            guard var shard = shards[key] else { return [] }
            var ready: [[Pending]] = []
            while shard.items > 0 { ready.append(Self.take(&shard, max: config.send_batch_max_size)) }
            shard.timer = nil
            shards[key] = shard
            return ready
        }
        if cause == .timeout, !ready.isEmpty { timeoutTriggers.increment(by: Int64(ready.count)) }
        for parts in ready { await send(parts) }
    }

    private func send(_ parts: [Pending]) async {
        guard let merged = TelemetryBatch.concatenating(parts.map(\.batch)) else { return }
        let id = taskCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let next = self.next
        let logger = settings.logger
        let task = Task {
            var outcome: PipelineError?
            do {
                try await next.consume(merged)
            } catch {
                outcome = PipelineError(classifying: error)
                logger.warning("export of \(merged.itemCount) \(merged.signal.itemName) failed: \(error)")
            }
            for part in parts { part.waiter.complete(items: part.batch.itemCount, outcome: outcome) }
        }
        sendSize.record(Double(merged.itemCount))
        inFlight.withLock { $0[id] = task }
        await task.value
        _ = inFlight.withLock { $0.removeValue(forKey: id) }
    }

    /// Items waiting in all shards.
    var pendingItems: Int { shards.withLock { $0.values.reduce(0) { $0 + $1.items } } }

    public func shutdown() async {
        let keys = shards.withLock { shards in
            for key in shards.keys { shards[key]?.timer?.cancel() }
            return Array(shards.keys)
        }
        for key in keys { await flush(key, cause: .shutdown) }
        for task in inFlight.withLock({ Array($0.values) }) { await task.value }
    }
}
