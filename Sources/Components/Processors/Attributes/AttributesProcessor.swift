import OTLP
import OTTL
import Pipeline

/// `processors.attributes`: `actions` on span, log record and data point attributes, in order.
/// `include` / `exclude` pick the spans, log records and metrics whose attributes change.
///
/// Spans and log records of a batch still encoded, without `include` / `exclude`, change on their
/// encoding: each item's attributes become a `WireAttributeList`, and only items whose attributes
/// changed are written again (`WireRewrite`). Everything else takes the decoded model.
public struct AttributesProcessorConfig: ComponentConfig {
    public var actions: [AttributeActionConfig] = []
    public var include: MatchConfig?
    public var exclude: MatchConfig?
    public init() {}

    public func validate() throws(ConfigError) {
        if actions.isEmpty { throw ConfigError(path: "actions", message: "at least one action is required") }
        _ = try AttributeActions(actions, path: "actions")
        _ = try IncludeExclude(include: include, exclude: exclude, path: "")
    }
}

public final class AttributesProcessor: Processor {
    public static let factory = ProcessorFactory(type: "attributes", stability: .alpha, config: AttributesProcessorConfig.self) { _, config, _, next in
        AttributesProcessor(actions: try AttributeActions(config.actions, path: "actions"),
                            selection: try IncludeExclude(include: config.include, exclude: config.exclude, path: ""), next: next)
    }

    // Read by a transform processor in front of this one, which runs these actions in its own
    // rewrite of an encoded batch (`TransformProcessor.followingAttributes`).
    let actions: AttributeActions
    /// The actions as one walk over each encoded item, where they allow it.
    let streamed: StreamedAttributeActions?
    let selection: IncludeExclude
    let next: any Consumer

    init(actions: AttributeActions, selection: IncludeExclude, next: any Consumer) {
        self.actions = actions
        streamed = StreamedAttributeActions(actions)
        self.selection = selection
        self.next = next
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        var batch = batch
        if !batch.isDecoded, batch.signal != .metrics, selection.isEmpty, try changeEncoded(&batch) {
            return try await next.consume(batch)
        }
        let metadata = batch.metadata
        let actions = self.actions, selection = self.selection
        let apply = { (attributes: inout [KeyValue]) in actions.apply(to: &attributes, metadata: metadata) }
        switch try batch.requestForProcessing() {
        case .traces(var data):
            data.resourceSpans.editItems { span, scope, resource in
                if selection.passes({ $0.matches(span, scope, resource) }) { editInPlace(&span, \.attributes, apply) }
            }
            batch.replace(with: .traces(data))
        case .logs(var data):
            data.resourceLogs.editItems { record, scope, resource in
                if selection.passes({ $0.matches(record, scope, resource) }) { editInPlace(&record, \.attributes, apply) }
            }
            batch.replace(with: .logs(data))
        case .metrics(var data):
            data.resourceMetrics.editItems { metric, scope, resource in
                guard selection.passes({ $0.matches(metric, scope, resource) }) else { return }
                metric.mapPoints { point in
                    var point = point
                    editInPlace(&point, \.attributes, apply)
                    return point
                }
            }
            batch.replace(with: .metrics(data))
        }
        try await next.consume(batch)
    }

    /// False when the encoding has a shape only the decoded path reads right.
    private func changeEncoded(_ batch: inout TelemetryBatch) throws -> Bool {
        let field = batch.signal == .traces ? 9 : 6
        let metadata = batch.metadata, actions = self.actions, streamed = self.streamed
        let bytes = batch.encoded(), count = batch.itemCount, signal = batch.signal
        return try runOnEncoding {
            // One list, and the walk's buffers, whose storage every item reuses.
            var attributes = WireAttributeList()
            var scratch = StreamedAttributeActions.Scratch()
            let changed = try WireRewrite.rewrite(signal, bytes, itemCount: count, dropsEmpty: false, indexed: streamed == nil,
                                                  keepResource: { _ in true }, keepScope: { _, _ in true }) { item, _, _, bodies in
                var item = item
                if let streamed {
                    if let decision = streamed.apply(item.buffer, item.range, field: field, into: &bodies, scratch: &scratch) { return decision }
                    item = try WireFields(item.buffer, item.range, singularMessages: WireRewrite.itemSingularMessages(signal),
                                          firstOf: field)
                    guard !item.isIrregular else { throw WireIrregularMessage() }
                }
                attributes.reset(item, field: field)
                actions.apply(to: &attributes, metadata: metadata)
                return attributes.decision(writingInto: &bodies)
            }
            if let changed { batch.replace(withTrustedProtobuf: changed.bytes, itemCount: changed.items) }
        }
    }
}
