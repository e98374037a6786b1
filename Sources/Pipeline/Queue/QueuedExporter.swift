import Foundation
import Logging
import OTLP
import Prometheus
import Synchronization

/// What the Go collector's exporter helper puts in front of an exporter: a sending queue per
/// signal with `num_consumers` consumers, and the `retry_on_failure` loop around each export.
///
/// - Queued (the default): the caller returns once the batch is held — in memory, or written
///   and synced on disk with `storage` — and is told to retry later at once when it does not fit.
/// - Direct: the caller waits for the destination's answer, through the same consumers' limit and
///   retries. This is how `wait_for_result: true` works, and how every replayable batch (from the
///   kafka receiver, whose offsets are committed only after export) is sent, whatever the settings.
///
/// Every item given up on is counted in `otelcol_dropped_items_total` and logged with its reason.
public final class QueuedExporter: Consumer, Sendable {
    private let id: ComponentID
    private let exporter: any Consumer
    private let settings: SendingQueueSettings
    private let retry: RetrySettings?
    private let storage: (any QueueStorage)?
    private let signals: [Signal]
    private let telemetry: CollectorTelemetry
    private let logger: Logger
    /// The consumers' limit for direct sends.
    private let slots: QueueCapacity
    private let lanes = Mutex<[Signal: Lane]>([:])
    private let refresher = Mutex<Task<Void, Never>?>(nil)
    private let enqueueFailed: [Signal: Counter]

    private final class Lane: Sendable {
        let queue: any ExportQueue
        let durable: Bool
        let workers = Mutex<[Task<Void, Never>]>([])
        /// Set while deliveries fail and the queue holds data; logged once each way.
        let filling = Atomic<Bool>(false)
        let size: Gauge
        let age: Gauge
        let disk: Gauge?

        init(queue: any ExportQueue, durable: Bool, size: Gauge, age: Gauge, disk: Gauge?) {
            self.queue = queue
            self.durable = durable
            self.size = size
            self.age = age
            self.disk = disk
        }
    }

    public init(_ exporter: any Consumer, id: ComponentID, settings: SendingQueueSettings, retry: RetrySettings?,
                storage: (any QueueStorage)?, signals: [Signal], telemetry: CollectorTelemetry, logger: Logger) {
        self.id = id
        self.exporter = exporter
        self.settings = settings
        self.retry = retry
        self.storage = storage
        self.signals = signals
        self.telemetry = telemetry
        self.logger = logger
        slots = QueueCapacity(capacity: settings.num_consumers)
        var failed: [Signal: Counter] = [:]
        for signal in Signal.allCases {
            failed[signal] = telemetry.counter("otelcol_exporter_enqueue_failed_\(signal.itemName)_total", [("exporter", id.description)])
        }
        enqueueFailed = failed
    }

    private var queued: Bool { settings.enabled && !settings.wait_for_result }

    /// Opens the queues (recovering durable ones) and starts their consumers.
    public func start() throws {
        guard queued else { return }
        var opened: [Signal: Lane] = [:]
        for signal in signals {
            let labels = [("exporter", id.description), ("data_type", signal.rawValue)]
            let queue: any ExportQueue
            if let storage {
                let options = storage.queueOptions(exporter: id, signal: signal)
                let durable: DurableQueue
                do {
                    durable = try DurableQueue(options: options, sizer: settings.sizer, capacity: settings.queue_size) { [telemetry, id, logger] items, message in
                        telemetry.recordDropped(items, signal: signal, component: id, reason: "corrupt_queue_record")
                        logger.error("sending queue for \(signal): \(message)")
                    }
                } catch {
                    throw StartError(message: "sending_queue.storage: \(error)")
                }
                if durable.recovered.records > 0 {
                    logger.info("sending queue for \(signal): \(durable.recovered.records) requests from before the restart are delivered again", metadata: ["directory": "\(options.directory)"])
                }
                queue = durable
            } else {
                queue = MemoryQueue(capacity: settings.queue_size, sizer: settings.sizer)
            }
            telemetry.gauge("otelcol_exporter_queue_capacity", labels).set(Double(settings.queue_size))
            opened[signal] = Lane(queue: queue, durable: storage != nil,
                                  size: telemetry.gauge("otelcol_exporter_queue_size", labels),
                                  age: telemetry.gauge("otelcol_exporter_queue_oldest_item_age_seconds", labels),
                                  disk: storage == nil ? nil : telemetry.gauge("otelcol_exporter_queue_disk_bytes", labels))
        }
        lanes.withLock { $0 = opened }
        for lane in opened.values {
            let workers = (0..<settings.num_consumers).map { _ in Task { await self.work(lane) } }
            lane.workers.withLock { $0 = workers }
            refresh(lane)
        }
        refresher.withLock { task in
            task = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    guard let self else { return }
                    for lane in self.lanes.withLock({ Array($0.values) }) { self.refresh(lane) }
                }
            }
        }
    }

    private func refresh(_ lane: Lane) {
        lane.size.set(Double(lane.queue.used))
        lane.age.set(lane.queue.oldestAcceptedAt.map { max(0, Date().timeIntervalSince1970 - $0) } ?? 0)
        if let disk = lane.disk, let bytes = lane.queue.bytesOnDisk { disk.set(Double(bytes)) }
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        guard settings.enabled else {
            if case .failure(let failure) = await deliver(batch, durable: false) { throw failure.error }
            return
        }
        if batch.metadata.replayable || settings.wait_for_result {
            return try await direct(batch)
        }
        guard let lane = lanes.withLock({ $0[batch.signal] }) else {
            throw PipelineError.retryable("exporter \(id) is not running")
        }
        do {
            try await lane.queue.offer(batch, block: settings.block_on_overflow)
            lane.size.set(Double(lane.queue.used))
        } catch let refusal as QueueCapacity.Refusal {
            switch refusal {
            case .full:
                enqueueFailed[batch.signal]?.increment(by: Int64(batch.itemCount))
                throw PipelineError.retryable("sending queue is full (\(lane.queue.used) of \(settings.queue_size) \(settings.sizer.rawValue))", retryAfter: .seconds(1))
            case .closed:
                throw PipelineError.retryable("the collector is shutting down")
            case .cancelled:
                throw CancellationError()
            }
        } catch {
            enqueueFailed[batch.signal]?.increment(by: Int64(batch.itemCount))
            throw error
        }
    }

    /// Sends while the caller waits, at most `num_consumers` at once.
    private func direct(_ batch: TelemetryBatch) async throws {
        do {
            try await slots.reserve(1, block: true)
        } catch QueueCapacity.Refusal.closed {
            throw PipelineError.retryable("the collector is shutting down")
        } catch {
            throw CancellationError()
        }
        defer { slots.release(1) }
        if case .failure(let failure) = await deliver(batch, durable: false) { throw failure.error }
    }

    /// One queue consumer: takes batches until the queue is closed and empty. Requests already
    /// waiting behind the first are merged into one export (up to `batch.max_size`, by default
    /// 8192 items or 4 MiB), so a backlog drains in large exports; nothing is held back to wait.
    private func work(_ lane: Lane) async {
        let limit = settings.mergeLimit
        // A consumer cancelled at the shutdown deadline stops; what it did not take is counted there.
        while !Task.isCancelled, let first = await lane.queue.take() {
            var taken = [first]
            var items = first.batch.itemCount
            var bytes = first.bytes
            while items < limit.items, bytes < limit.bytes, let more = lane.queue.poll() {
                taken.append(more)
                items += more.batch.itemCount
                bytes += more.bytes
            }
            // Requests with other metadata (record headers, routing) are sent apart.
            var start = 0
            while start < taken.count {
                var end = start + 1
                while end < taken.count, taken[end].batch.metadata == taken[start].batch.metadata { end += 1 }
                await send(Array(taken[start..<end]), lane)
                start = end
            }
            lane.size.set(Double(lane.queue.used))
            if lane.queue.used == 0, lane.filling.exchange(false, ordering: .relaxed) {
                logger.info("sending queue for \(first.batch.signal) has drained")
            }
        }
    }

    private func send(_ run: [QueuedBatch], _ lane: Lane) async {
        guard let merged = TelemetryBatch.concatenating(run.map(\.batch)) else { return }
        switch await deliver(merged, durable: lane.durable, lane: lane) {
        case .success:
            break
        case .failure(let failure) where failure.reason == "shutdown" && lane.durable:
            // Left in the log for the next start.
            return
        case .failure(let failure):
            drop(merged, failure)
        }
        for item in run { lane.queue.done(item) }
    }

    private struct Failure: Error {
        let error: PipelineError
        let reason: String
    }

    /// Exports with `retry_on_failure`. Behind a durable queue, data whose retries run out is
    /// kept (tried again at the longest interval) unless a finite `max_elapsed_time` was written;
    /// an exporter without `retry_on_failure` retries on its own, and a durable queue then still
    /// keeps what it could not deliver.
    private func deliver(_ batch: TelemetryBatch, durable: Bool, lane: Lane? = nil) async -> Result<Void, Failure> {
        let policy = retry ?? (durable ? RetrySettings() : nil)
        let keep = durable && (retry.map { $0.enabled && $0.keepsUndeliveredData } ?? true)
        var waits = policy?.backoff(unbounded: keep).start()
        while true {
            do {
                try await exporter.consume(batch)
                return .success(())
            } catch {
                if Task.isCancelled || error is CancellationError {
                    return .failure(Failure(error: .retryable("the collector is shutting down"), reason: "shutdown"))
                }
                let failure = PipelineError(classifying: error)
                guard failure.isRetryable, policy?.enabled == true, var run = waits else {
                    return .failure(Failure(error: failure, reason: failure.isRetryable ? "export_failed" : "rejected_permanently"))
                }
                let outcome = await run.wait(hint: failure.retryAfter, before: { _ in
                    if let lane, !lane.filling.exchange(true, ordering: .relaxed) {
                        logger.warning("sending queue for \(batch.signal) is filling: exports fail and are retried: \(failure.message)",
                                       metadata: ["queue_size": "\(lane.queue.used)", "queue_capacity": "\(settings.queue_size)"])
                    }
                })
                waits = run
                switch outcome {
                case .waited: continue
                case .expired: return .failure(Failure(error: failure, reason: "retries_exhausted"))
                case .stopped: return .failure(Failure(error: failure, reason: "shutdown"))
                }
            }
        }
    }

    private func drop(_ batch: TelemetryBatch, _ failure: Failure) {
        telemetry.recordDropped(batch.itemCount, signal: batch.signal, component: id, reason: failure.reason)
        logger.error("Exporting failed. Dropping data: \(batch.itemCount) \(batch.signal.itemName) (\(failure.reason)): \(failure.error.message)")
    }

    /// Stops taking data. A memory queue is drained until `deadline`; what is left then is
    /// counted as dropped. A durable queue finishes the deliveries under way (until `deadline`)
    /// and keeps the rest on disk.
    public func drain(until deadline: ContinuousClock.Instant) async {
        slots.close()
        let current = lanes.withLock { $0 }
        for lane in current.values { lane.queue.close() }
        for (signal, lane) in current {
            let workers = lane.workers.withLock { $0 }
            let finished = await Self.wait(for: workers, until: deadline)
            if !finished { for worker in workers { worker.cancel() } }
            for worker in workers { await worker.value }
            if let memory = lane.queue as? MemoryQueue {
                let rest = memory.drainRemaining()
                let items = rest.reduce(0) { $0 + $1.batch.itemCount }
                if items > 0 {
                    telemetry.recordDropped(items, signal: signal, component: id, reason: "shutdown")
                    logger.error("sending queue for \(signal): \(items) \(signal.itemName) not delivered before the shutdown timeout are dropped")
                }
            } else if let durable = lane.queue as? DurableQueue {
                await durable.release()
                if durable.used > 0 {
                    logger.info("sending queue for \(signal): \(durable.used) \(settings.sizer.rawValue) stay on disk for the next start")
                }
            }
            refresh(lane)
        }
        refresher.withLock { $0?.cancel() }
    }

    /// Whether `tasks` all finished before `deadline`. Awaiting a task's value does not end on
    /// cancellation, so the two waits race in tasks of their own and the first answer is taken.
    private static func wait(for tasks: [Task<Void, Never>], until deadline: ContinuousClock.Instant) async -> Bool {
        let answered = Atomic<Bool>(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer = { @Sendable (finished: Bool) in
                if !answered.exchange(true, ordering: .relaxed) { continuation.resume(returning: finished) }
            }
            let timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                answer(false)
            }
            Task {
                for task in tasks { await task.value }
                timer.cancel()
                answer(true)
            }
        }
    }
}
