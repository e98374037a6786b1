import Foundation
import Logging
import OTLP
import Pipeline
import Synchronization
@testable import Components

/// A pipeline end that records what reached it and answers as told: the observation point of
/// processor tests (the real exporters are exercised by the integration tests).
final class RecordingConsumer: Consumer {
    let received = Mutex<[TelemetryBatch]>([])
    let failure = Mutex<PipelineError?>(nil)
    let delay: Duration

    init(delay: Duration = .zero) { self.delay = delay }

    func consume(_ batch: TelemetryBatch) async throws {
        if delay > .zero { try await Task.sleep(for: delay) }
        if let failure = failure.withLock({ $0 }) { throw failure }
        received.withLock { $0.append(batch) }
    }

    var itemCounts: [Int] { received.withLock { $0.map(\.itemCount) } }
}

func settings(_ type: String, _ kind: ComponentKind = .processor) -> ComponentSettings {
    ComponentSettings(id: ComponentID(type: type), kind: kind, logger: Logger(label: "test"), telemetry: CollectorTelemetry())
}

func decodeConfig<C: ComponentConfig>(_ type: C.Type, _ yaml: String) throws -> C {
    let config = try ConfigDecoder().decode(C.self, from: ConfigNode.parse(yaml: yaml, origin: "test"))
    try config.validate()
    return config
}

/// A traces batch of `spans` spans whose names carry `tag`, for ordering checks.
func traceBatch(spans: Int, tag: String = "", metadata: RequestMetadata = .empty) -> TelemetryBatch {
    var scope = ScopeSpans()
    scope.spans = (0..<spans).map { i in
        var span = Span()
        span.name = "\(tag)\(i)"
        span.traceID = Data(repeating: 1, count: 16)
        span.spanID = Data(repeating: UInt8(i % 255 + 1), count: 8)
        return span
    }
    var resource = ResourceSpans()
    resource.scopeSpans = [scope]
    var request = ExportTraceServiceRequest()
    request.resourceSpans = [resource]
    return TelemetryBatch(.traces(request), metadata: metadata)
}

struct TimedOut: Error {}

/// Polls `condition` until it holds, failing after `timeout` (generous: a loaded CI machine can
/// starve the test for seconds; a condition that holds returns at once).
func waitUntil(timeout: Duration = .seconds(120), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut() }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// A clock a test moves itself: `sleep` waits until `fire()`, so timer behaviour is tested
/// without waiting for real time. A cancelled sleep ends at once, as Task.sleep does.
final class ManualTimer: Sendable {
    private struct Sleeper {
        let id: Int
        let duration: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var next = 0
        var sleepers: [Sleeper] = []
        var cancelled: Set<Int> = []
    }
    private let state = Mutex(State())

    /// The durations of the sleeps in progress.
    var armed: [Duration] { state.withLock { $0.sleepers.map(\.duration) } }

    @Sendable func sleep(_ duration: Duration) async throws {
        let id = state.withLock { state in state.next += 1; return state.next }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelledFirst = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return true }
                    state.sleepers.append(Sleeper(id: id, duration: duration, continuation: continuation))
                    return false
                }
                if cancelledFirst { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Ends every sleep in progress, as if its time had passed.
    func fire() {
        for sleeper in state.withLock({ state in defer { state.sleepers = [] }; return state.sleepers }) { sleeper.continuation.resume() }
    }
}
