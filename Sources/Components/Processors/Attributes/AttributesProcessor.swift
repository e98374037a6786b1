import OTLP
import OTTL
import Pipeline

/// `processors.attributes`: `actions` on span, log record and data point attributes, in order.
public struct AttributesProcessorConfig: ComponentConfig {
    public var actions: [AttributeActionConfig] = []
    public init() {}

    public func validate() throws(ConfigError) {
        if actions.isEmpty { throw ConfigError(path: "actions", message: "at least one action is required") }
        _ = try AttributeActions(actions, path: "actions")
    }
}

public final class AttributesProcessor: Processor {
    public static let factory = ProcessorFactory(type: "attributes", stability: .alpha, config: AttributesProcessorConfig.self) { _, config, _, next in
        AttributesProcessor(actions: try AttributeActions(config.actions, path: "actions"), next: next)
    }

    private let actions: AttributeActions
    private let next: any Consumer

    init(actions: AttributeActions, next: any Consumer) {
        self.actions = actions
        self.next = next
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        var batch = batch
        let metadata = batch.metadata
        let actions = self.actions
        let apply = { (attributes: inout [KeyValue]) in actions.apply(to: &attributes, metadata: metadata) }
        switch try batch.requestForProcessing() {
        case .traces(var data):
            data.resourceSpans.editItems { span, _, _ in apply(&span.attributes) }
            batch.replace(with: .traces(data))
        case .logs(var data):
            data.resourceLogs.editItems { record, _, _ in apply(&record.attributes) }
            batch.replace(with: .logs(data))
        case .metrics(var data):
            data.resourceMetrics.editItems { metric, _, _ in
                metric.mapPoints { point in
                    var point = point
                    apply(&point.attributes)
                    return point
                }
            }
            batch.replace(with: .metrics(data))
        }
        try await next.consume(batch)
    }
}
