import Foundation
import OTLP
import Pipeline
import Testing
@testable import Components

@Suite struct BatchProcessorTests {
    func make(_ yaml: String, _ sink: RecordingConsumer) throws -> any Processor {
        try BatchProcessor.factory.create(settings("batch"), try decodeConfig(BatchConfig.self, yaml), .traces, sink)
    }

    @Test func sizeTriggerSendsOneMergedBatchAndAnswersEveryCaller() async throws {
        let sink = RecordingConsumer()
        let batch = try make("send_batch_size: 10\ntimeout: 1h", sink)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<5 { group.addTask { try await batch.consume(traceBatch(spans: 2, tag: "c\(i)-")) } }
            try await group.waitForAll()
        }
        #expect(sink.itemCounts == [10])
        #expect(sink.received.withLock { $0[0].isDecoded } == false) // merged by concatenation
    }

    @Test func timeoutFlushesWhatIsPending() async throws {
        let sink = RecordingConsumer()
        let timer = ManualTimer()
        let batch = BatchProcessor(settings: settings("batch"), config: try decodeConfig(BatchConfig.self, "send_batch_size: 1000\ntimeout: 200ms"),
                                   signal: .traces, next: sink, sleep: timer.sleep)
        let caller = Task { try await batch.consume(traceBatch(spans: 3)) }
        try await waitUntil { timer.armed == [.milliseconds(200)] }
        #expect(batch.pendingItems == 3)
        #expect(sink.itemCounts.isEmpty, "sent before the timeout")
        timer.fire()
        try await caller.value
        #expect(sink.itemCounts == [3])
        #expect(batch.pendingItems == 0)
    }

    @Test func aShardFilledBeforeItsTimeoutCancelsTheTimer() async throws {
        let sink = RecordingConsumer()
        let timer = ManualTimer()
        let batch = BatchProcessor(settings: settings("batch"), config: try decodeConfig(BatchConfig.self, "send_batch_size: 4\ntimeout: 1s"),
                                   signal: .traces, next: sink, sleep: timer.sleep)
        let first = Task { try await batch.consume(traceBatch(spans: 3)) }
        try await waitUntil { timer.armed.count == 1 }
        try await batch.consume(traceBatch(spans: 1))
        try await first.value
        #expect(sink.itemCounts == [4])
        try await waitUntil { timer.armed.isEmpty }
        // A new shard fill arms a new timer; only its firing sends the remainder.
        let second = Task { try await batch.consume(traceBatch(spans: 2)) }
        try await waitUntil { timer.armed.count == 1 }
        timer.fire()
        try await second.value
        #expect(sink.itemCounts == [4, 2])
    }

    @Test func maxSizeSplitsInOrder() async throws {
        let sink = RecordingConsumer()
        let batch = try make("send_batch_size: 4\nsend_batch_max_size: 4\ntimeout: 1h", sink)
        let input = traceBatch(spans: 10, tag: "s")
        await #expect(throws: Never.self) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await batch.consume(input) }
                group.addTask {
                    // The remainder of 2 waits for more data; this completes the third batch.
                    try await waitUntil { sink.itemCounts.count == 2 }
                    try await batch.consume(traceBatch(spans: 2, tag: "t"))
                }
                try await group.waitForAll()
            }
        }
        #expect(sink.itemCounts == [4, 4, 4])
        var names: [String] = []
        for var b in sink.received.withLock({ $0 }) {
            guard case .traces(let r) = try b.model() else { continue }
            names += r.resourceSpans.flatMap { $0.scopeSpans.flatMap { $0.spans.map(\.name) } }
        }
        #expect(names == (0..<10).map { "s\($0)" } + ["t0", "t1"])
    }

    @Test func exportFailureReachesEveryCallerWithItsKind() async throws {
        let sink = RecordingConsumer()
        sink.failure.withLock { $0 = .retryable("broker down") }
        let batch = try make("send_batch_size: 4\ntimeout: 1h", sink)
        await withTaskGroup(of: PipelineError?.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    do { try await batch.consume(traceBatch(spans: 2)); return nil } catch { return error as? PipelineError }
                }
            }
            for await outcome in group {
                #expect(outcome?.isRetryable == true)
                #expect(outcome?.message == "broker down")
            }
        }
    }

    @Test func shutdownFlushesPendingItems() async throws {
        let sink = RecordingConsumer()
        let batch = try make("send_batch_size: 1000\ntimeout: 1h", sink)
        let caller = Task { try await batch.consume(traceBatch(spans: 7)) }
        // The caller's items must be pending before shutdown, or shutdown has nothing to flush.
        try await waitUntil { (batch as? BatchProcessor)?.pendingItems == 7 }
        await batch.shutdown()
        try await caller.value
        #expect(sink.itemCounts == [7])
    }

    @Test func metadataShardsAndCardinalityLimit() async throws {
        let sink = RecordingConsumer()
        let batch = try make("send_batch_size: 2\ntimeout: 1h\nmetadata_keys: [tenant]\nmetadata_cardinality_limit: 1", sink)
        try await batch.consume(traceBatch(spans: 2, metadata: RequestMetadata(headers: ["tenant": ["a"]])))
        let error = await #expect(throws: PipelineError.self) {
            try await batch.consume(traceBatch(spans: 2, metadata: RequestMetadata(headers: ["tenant": ["b"]])))
        }
        #expect(error?.isRetryable == false)
        #expect(error?.message == "too many batcher metadata-value combinations (limit 1)")
    }
}
