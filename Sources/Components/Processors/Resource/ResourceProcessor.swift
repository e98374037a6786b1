import OTLP
import Pipeline

/// `processors.resource`: `attributes` actions on every resource's attributes.
///
/// A batch still encoded changes on its encoding: each resource's attributes become a
/// `WireAttributeList`, and only resources whose attributes changed are written again; scopes and
/// items are copied as bytes (`WireRewrite.rewriteResources`).
public struct ResourceProcessorConfig: ComponentConfig {
    public var attributes: [AttributeActionConfig] = []
    public init() {}

    public func validate() throws(ConfigError) {
        if attributes.isEmpty { throw ConfigError(path: "attributes", message: "at least one action is required") }
        _ = try AttributeActions(attributes, path: "attributes")
    }
}

public final class ResourceProcessor: Processor {
    public static let factory = ProcessorFactory(type: "resource", stability: .alpha, config: ResourceProcessorConfig.self) { _, config, _, next in
        ResourceProcessor(actions: try AttributeActions(config.attributes, path: "attributes"), next: next)
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
        if !batch.isDecoded, try changeEncoded(&batch) { return try await next.consume(batch) }
        let apply = { (resource: inout Resource) in actions.apply(to: &resource.attributes, metadata: metadata) }
        switch try batch.requestForProcessing() {
        case .traces(var data): data.resourceSpans.editResources(apply); batch.replace(with: .traces(data))
        case .logs(var data): data.resourceLogs.editResources(apply); batch.replace(with: .logs(data))
        case .metrics(var data): data.resourceMetrics.editResources(apply); batch.replace(with: .metrics(data))
        }
        try await next.consume(batch)
    }

    /// False when the encoding has a shape only the decoded path reads right.
    private func changeEncoded(_ batch: inout TelemetryBatch) throws -> Bool {
        let metadata = batch.metadata, actions = self.actions
        let bytes = batch.encoded(), count = batch.itemCount
        return try runOnEncoding {
            let changed = try WireRewrite.rewriteResources(bytes) { resource in
                var attributes = WireAttributeList(resource, field: 1)
                actions.apply(to: &attributes, metadata: metadata)
                return attributes.isChanged ? attributes.messageEncoding() : nil
            }
            if let changed { batch.replace(withTrustedProtobuf: changed, itemCount: count) }
        }
    }
}
