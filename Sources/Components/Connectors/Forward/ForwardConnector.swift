import OTLP
import Pipeline

/// `connectors.forward`: hands a pipeline's data unchanged to the pipelines of the same signal
/// that list it under `receivers`, as Go's forward connector does. An export through it
/// succeeds when every pipeline it feeds took the data.
public struct ForwardConnectorConfig: ComponentConfig {
    public init() {}
}

public final class ForwardConnector: Connector {
    public static let factory = ConnectorFactory(type: "forward", stability: .beta, pairs: Signal.allCases.map { ($0, $0) },
                                                 config: ForwardConnectorConfig.self) { settings, _, signal, next in
        // The config check guarantees a pipeline of the same signal; without one, data would
        // vanish unseen, so building fails instead.
        guard let feeds = next[signal] else { throw ConnectorWithoutPipeline(id: settings.id, signal: signal) }
        return ForwardConnector(next: feeds)
    }

    let next: any Consumer

    init(next: any Consumer) { self.next = next }

    public func consume(_ batch: TelemetryBatch) async throws {
        try await next.consume(batch)
    }
}

struct ConnectorWithoutPipeline: Error, CustomStringConvertible {
    let id: ComponentID
    let signal: Signal
    var description: String { "connector \(id) feeds no \(signal) pipeline" }
}
