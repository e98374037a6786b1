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
func waitUntil(timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut() }
        try await Task.sleep(for: .milliseconds(2))
    }
}
