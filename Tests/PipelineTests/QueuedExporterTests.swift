import Foundation
import Logging
import OTLP
import Synchronization
import Testing
@testable import Pipeline

/// The sending queue and retry loop in front of an exporter, against a scripted destination.
@Suite(.timeLimit(.minutes(1))) struct QueuedExporterTests {
    /// A destination that fails as scripted, can be held closed, and reports each delivery.
    final class Destination: Consumer {
        private let script: Mutex<[PipelineError]>
        private let held = Mutex<(open: Bool, waiting: [(id: UUID, continuation: CheckedContinuation<Void, Never>)])>((true, []))
        let attempts = Atomic<Int>(0)
        let deliveries: AsyncStream<Int>
        let sizes = Mutex<[Int]>([])
        private let delivered: AsyncStream<Int>.Continuation

        init(failing script: [PipelineError] = [], open: Bool = true) {
            self.script = Mutex(script)
            (deliveries, delivered) = AsyncStream.makeStream()
            held.withLock { $0.open = open }
        }

        func consume(_ batch: TelemetryBatch) async throws {
            attempts.add(1, ordering: .relaxed)
            if let failure = script.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
            // Held until opened, or until the delivery is cancelled (a shutdown deadline).
            let id = UUID()
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let open = held.withLock { h in
                        if !h.open && !Task.isCancelled { h.waiting.append((id, continuation)) }
                        return h.open || Task.isCancelled
                    }
                    if open { continuation.resume() }
                }
            } onCancel: {
                let waiting = held.withLock { h in
                    defer { h.waiting.removeAll { $0.id == id } }
                    return h.waiting.filter { $0.id == id }
                }
                for entry in waiting { entry.continuation.resume() }
            }
            try Task.checkCancellation()
            sizes.withLock { $0.append(batch.itemCount) }
            delivered.yield(batch.itemCount)
        }

        func open() {
            let waiting = held.withLock { h in
                h.open = true
                defer { h.waiting = [] }
                return h.waiting
            }
            for entry in waiting { entry.continuation.resume() }
        }

        /// Waits until `count` items were delivered in all.
        func waitForItems(_ count: Int) async {
            var total = 0
            for await items in deliveries {
                total += items
                if total >= count { return }
            }
        }
    }

    final class TestStorage: QueueStorage {
        let directory: String
        init(_ directory: String) { self.directory = directory }
        func queueOptions(exporter: ComponentID, signal: Signal) -> DurableQueueOptions {
            DurableQueueOptions(directory: directory + "/\(exporter.type)_\(signal)")
        }
    }

    static func settings(_ change: (inout SendingQueueSettings) -> Void = { _ in }) -> SendingQueueSettings {
        var settings = SendingQueueSettings()
        change(&settings)
        return settings
    }

    static func fastRetry(_ change: (inout RetrySettings) -> Void = { _ in }) -> RetrySettings {
        var retry = RetrySettings()
        retry.initial_interval = .milliseconds(1)
        retry.max_interval = .milliseconds(5)
        change(&retry)
        return retry
    }

    static func exporter(_ destination: Destination, _ settings: SendingQueueSettings = Self.settings(), retry: RetrySettings? = fastRetry(),
                         storage: (any QueueStorage)? = nil, telemetry: CollectorTelemetry = CollectorTelemetry()) throws -> QueuedExporter {
        let exporter = QueuedExporter(destination, id: ComponentID(type: "test"), settings: settings, retry: retry, storage: storage,
                                      signals: [.traces], telemetry: telemetry, logger: Logger(label: "test"))
        try exporter.start()
        return exporter
    }

    static func value(_ telemetry: CollectorTelemetry, _ series: String) -> Double? {
        telemetry.prometheusText().split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    @Test func aQueuedBatchIsAnsweredBeforeItIsDelivered() async throws {
        let destination = Destination(open: false)
        let exporter = try Self.exporter(destination)
        try await exporter.consume(try DurableQueueTests.batch(1))
        destination.open()
        await destination.waitForItems(1)
        await exporter.drain(until: .now + .seconds(5))
    }

    @Test func requestsWaitingInTheQueueAreMergedUpToTheLimit() async throws {
        let destination = Destination(open: false)
        var settings = Self.settings { $0.num_consumers = 1 }
        settings.batch = SendingQueueSettings.Batch()
        settings.batch?.max_size = 3
        let exporter = try Self.exporter(destination, settings)
        try await exporter.consume(try DurableQueueTests.batch(0))
        // The consumer holds the first request before the others arrive.
        while destination.attempts.load(ordering: .relaxed) < 1 { await Task.yield() }
        for n in 1..<6 { try await exporter.consume(try DurableQueueTests.batch(n)) }
        var tagged = try DurableQueueTests.batch(6, headers: ["tenant": ["b"]])
        tagged.metadata.headers["tenant"] = ["b"]
        try await exporter.consume(tagged)
        destination.open()
        await destination.waitForItems(7)
        // The first went alone (its consumer was waiting); then three at most per export, and the
        // request with other metadata on its own.
        #expect(destination.sizes.withLock { $0 } == [1, 3, 2, 1])
        await exporter.drain(until: .now + .seconds(5))
    }

    @Test func retryableFailuresAreRetriedAndPermanentOnesDroppedAndCounted() async throws {
        let telemetry = CollectorTelemetry()
        let destination = Destination(failing: [.retryable("down"), .retryable("still down"), .permanent("bad data")])
        var settings = Self.settings { $0.num_consumers = 1 }
        settings.batch = SendingQueueSettings.Batch()
        settings.batch?.max_size = 1
        settings.batch?.min_size = 1
        let exporter = try Self.exporter(destination, settings, telemetry: telemetry)
        try await exporter.consume(try DurableQueueTests.batch(1))
        try await exporter.consume(try DurableQueueTests.batch(2))
        await destination.waitForItems(1)
        await exporter.drain(until: .now + .seconds(5))
        #expect(destination.attempts.load(ordering: .relaxed) == 4)
        #expect(Self.value(telemetry, #"otelcol_dropped_items_total{component="test",signal="traces",reason="rejected_permanently"}"#) == 1)
    }

    @Test func retriesEndAtMaxElapsedTimeInMemory() async throws {
        let telemetry = CollectorTelemetry()
        let destination = Destination(failing: Array(repeating: .retryable("down"), count: 1000))
        let exporter = try Self.exporter(destination, retry: Self.fastRetry { $0.max_elapsed_time = .milliseconds(30) }, telemetry: telemetry)
        try await exporter.consume(try DurableQueueTests.batch(1))
        // Drain returns once the retries gave up; the deadline only bounds a starved test machine.
        await exporter.drain(until: .now + .seconds(60))
        #expect(Self.value(telemetry, #"otelcol_dropped_items_total{component="test",signal="traces",reason="retries_exhausted"}"#) == 1)
    }

    @Test func aReplayableBatchWaitsForTheDestinationsAnswer() async throws {
        let destination = Destination(failing: [.retryable("once"), .permanent("refused")])
        let exporter = try Self.exporter(destination)
        var batch = try DurableQueueTests.batch(1)
        batch.metadata.replayable = true
        await #expect(throws: PipelineError.self) { try await exporter.consume(batch) }
        #expect(destination.attempts.load(ordering: .relaxed) == 2)
        // A replayable batch that is delivered returns only after delivery.
        try await exporter.consume(batch)
        #expect(destination.attempts.load(ordering: .relaxed) == 3)
        await exporter.drain(until: .now + .seconds(5))
    }

    @Test func aFullQueueRefusesAtOnceAndCountsTheRefusal() async throws {
        let telemetry = CollectorTelemetry()
        let destination = Destination(open: false)
        let exporter = try Self.exporter(destination, Self.settings { $0.queue_size = 2; $0.num_consumers = 1 }, telemetry: telemetry)
        try await exporter.consume(try DurableQueueTests.batch(1))
        try await exporter.consume(try DurableQueueTests.batch(2))
        do {
            try await exporter.consume(try DurableQueueTests.batch(3))
            Issue.record("a third request fitted a queue of two")
        } catch let error as PipelineError {
            #expect(error.isRetryable)
            #expect(error.message.contains("sending queue is full"))
        }
        #expect(Self.value(telemetry, #"otelcol_exporter_enqueue_failed_spans_total{exporter="test"}"#) == 1)
        destination.open()
        await destination.waitForItems(2)
        await exporter.drain(until: .now + .seconds(5))
    }

    @Test func shutdownCountsWhatTheMemoryQueueCouldNotDeliver() async throws {
        let telemetry = CollectorTelemetry()
        let destination = Destination(open: false)
        let exporter = try Self.exporter(destination, Self.settings { $0.num_consumers = 1 }, telemetry: telemetry)
        for n in 0..<5 { try await exporter.consume(try DurableQueueTests.batch(n)) }
        // The destination never answers: the delivery in flight is cancelled at the deadline.
        await exporter.drain(until: .now + .milliseconds(50))
        #expect(Self.value(telemetry, #"otelcol_dropped_items_total{component="test",signal="traces",reason="shutdown"}"#) == 5)
    }

    @Test func aDurableQueueKeepsRetryingAndKeepsItsBacklogAcrossARestart() async throws {
        let directory = DurableQueueTests.folder()
        let destination = Destination(failing: Array(repeating: .retryable("down"), count: 100_000))
        let storage = TestStorage(directory)
        // max_elapsed_time unset: a durable queue does not give up.
        let first = try Self.exporter(destination, Self.settings { $0.num_consumers = 1 }, retry: Self.fastRetry(), storage: storage)
        for n in 0..<4 { try await first.consume(try DurableQueueTests.batch(n)) }
        await first.drain(until: .now + .milliseconds(200))
        let second = Destination()
        let restarted = try Self.exporter(second, storage: storage)
        await second.waitForItems(4)
        await restarted.drain(until: .now + .seconds(5))
        #expect(try DurableQueue(options: storage.queueOptions(exporter: ComponentID(type: "test"), signal: .traces), sizer: .requests, capacity: 10) { _, _ in }.used == 0)
    }

    @Test func aDurableQueueDropsWhenAFiniteMaxElapsedTimeWasWritten() async throws {
        let telemetry = CollectorTelemetry()
        let destination = Destination(failing: Array(repeating: .retryable("down"), count: 1000))
        let exporter = try Self.exporter(destination, retry: Self.fastRetry { $0.max_elapsed_time = .milliseconds(20) },
                                         storage: TestStorage(DurableQueueTests.folder()), telemetry: telemetry)
        try await exporter.consume(try DurableQueueTests.batch(1))
        // A durable queue stops handing out at shutdown: wait until the record was taken.
        while destination.attempts.load(ordering: .relaxed) < 1 { await Task.yield() }
        await exporter.drain(until: .now + .seconds(5))
        #expect(Self.value(telemetry, #"otelcol_dropped_items_total{component="test",signal="traces",reason="retries_exhausted"}"#) == 1)
    }
}
