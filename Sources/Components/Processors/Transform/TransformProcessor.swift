import OTLP
import OTTL
import Pipeline

/// `processors.transform`: runs OTTL statement groups, in order, on every item of each group's
/// context. Writing `resource.*` or `scope.*` from a lower context changes the resource or scope
/// every sibling shares, as in the Go collector. A batch with no groups for its signal passes
/// untouched. Span and log statements that change only the item's attributes run on the encoding
/// (`TransformEncodedPath.swift`); everything else on the decoded model. An attributes processor
/// right behind this one has its actions run in the same rewrite (`followingAttributes`).
public final class TransformProcessor: Processor {
    public static let factory = ProcessorFactory(type: "transform", stability: .alpha, config: TransformProcessorConfig.self) { settings, config, _, next in
        try TransformProcessor(settings: settings, plan: TransformPlan(config: config), next: next)
    }

    private let settings: ComponentSettings
    private let plan: TransformPlan
    private let encodedPlan: TransformEncodedPlan
    private let next: any Consumer
    /// The attributes processor right after this one, when its actions apply to every item
    /// (no include/exclude). On a batch this processor changes on the encoding, the actions run
    /// on each item's attribute list right after the statements, in the same rewrite, and the
    /// batch goes on to what follows the attributes processor: the request is indexed, read and
    /// written once for both, with the result of running them one after the other.
    private let followingAttributes: AttributesProcessor?

    init(settings: ComponentSettings, plan: TransformPlan, next: any Consumer) {
        self.settings = settings
        self.plan = plan
        encodedPlan = TransformEncodedPlan(plan)
        self.next = next
        followingAttributes = (next as? AttributesProcessor).flatMap { $0.selection.isEmpty ? $0 : nil }
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        let hasGroups = switch batch.signal {
        case .traces: !plan.traces.isEmpty
        case .metrics: !plan.metrics.isEmpty
        case .logs: !plan.logs.isEmpty
        }
        guard hasGroups else { return try await next.consume(batch) }
        var batch = batch
        if encodedPlan.handles(batch.signal), !batch.isDecoded {
            let attributes = attributesTakenIn(batch.signal)
            if try transformEncoded(&batch, then: attributes) { return try await (attributes?.next ?? next).consume(batch) }
        }
        var request = try batch.requestForProcessing()
        try runOTTL("transform statement", ignoredAs: "skipped", logger: settings.logger) { report throws(OTTLRuntimeError) in
            switch request {
            case .traces(var data):
                for group in plan.traces { try Self.apply(group, to: &data, report) }
                request = .traces(data)
            case .metrics(var data):
                for group in plan.metrics { try Self.apply(group, to: &data, report) }
                request = .metrics(data)
            case .logs(var data):
                for group in plan.logs { try Self.apply(group, to: &data, report) }
                request = .logs(data)
            }
        }
        batch.replace(with: request)
        try await next.consume(batch)
    }

    /// The following attributes processor whose actions run in this processor's rewrite of an
    /// encoded batch of `signal`. Statements that run in one walk over each item take the actions
    /// into that walk when those run in one walk too, and otherwise leave them to the attributes
    /// processor's own walk, which costs less than both on an attribute list.
    private func attributesTakenIn(_ signal: Signal) -> AttributesProcessor? {
        encodedPlan.streamed(signal) == nil || followingAttributes?.streamed != nil ? followingAttributes : nil
    }

    /// False when the encoding has a shape only the decoded path reads right. The actions of
    /// `attributes` (the processor that follows) run on each item after the statements.
    private func transformEncoded(_ batch: inout TelemetryBatch, then attributes: AttributesProcessor?) throws -> Bool {
        let bytes = batch.encoded(), count = batch.itemCount, signal = batch.signal, metadata = batch.metadata
        let after: ((inout WireAttributeList) -> Void)? = attributes.map { attributes in
            { attributes.actions.apply(to: &$0, metadata: metadata) }
        }
        return try runOnEncoding {
            try runOTTL("transform statement", ignoredAs: "skipped", logger: settings.logger) { report in
                if let changed = try encodedPlan.run(signal, bytes, itemCount: count, then: after, streamedAfter: attributes?.streamed, report) {
                    batch.replace(withTrustedProtobuf: changed.bytes, itemCount: changed.items)
                }
            }
        }
    }

    private static func apply(_ group: TransformPlan.TraceGroup, to request: inout ExportTraceServiceRequest,
                              _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        switch group {
        case .resource(let statements): try runResources(statements, &request.resourceSpans, report)
        case .scope(let statements): try runScopes(statements, &request.resourceSpans, report)
        case .span(let statements):
            try request.resourceSpans.editItems { (span: inout Span, scope, resource) throws(OTTLRuntimeError) in
                // The context takes the only reference, so editing it does not copy the span.
                var context = SpanContext(span, scope: scope, resource: resource)
                span = Span()
                defer { (span, scope, resource) = (context.item, context.scope, context.resource) }
                try statements.execute(&context, report: report)
            }
        case .spanEvent(let statements):
            try request.resourceSpans.editItems { (span: inout Span, scope, resource) throws(OTTLRuntimeError) in
                for e in span.events.indices {
                    var context = SpanEventContext(event: span.events[e], span: span, scope: scope, resource: resource)
                    try statements.execute(&context, report: report)
                    (span, scope, resource) = (context.span, context.scope, context.resource)
                    span.events[e] = context.event
                }
            }
        }
    }

    private static func apply(_ group: TransformPlan.MetricGroup, to request: inout ExportMetricsServiceRequest,
                              _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        switch group {
        case .resource(let statements): try runResources(statements, &request.resourceMetrics, report)
        case .scope(let statements): try runScopes(statements, &request.resourceMetrics, report)
        case .metric(let statements):
            try request.resourceMetrics.editItems { (metric: inout Metric, scope, resource) throws(OTTLRuntimeError) in
                var context = MetricContext(metric, scope: scope, resource: resource)
                metric = Metric()
                defer { (metric, scope, resource) = (context.item, context.scope, context.resource) }
                try statements.execute(&context, report: report)
            }
        case .dataPoint(let statements):
            try request.resourceMetrics.editItems { (metric: inout Metric, scope, resource) throws(OTTLRuntimeError) in
                let owner = metric
                try metric.mapPoints { (point: DataPoint) throws(OTTLRuntimeError) -> DataPoint? in
                    var context = DataPointContext(point: point, metric: owner, scope: scope, resource: resource)
                    try statements.execute(&context, report: report)
                    (scope, resource) = (context.scope, context.resource)
                    return context.point
                }
            }
        }
    }

    private static func apply(_ group: TransformPlan.LogGroup, to request: inout ExportLogsServiceRequest,
                              _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        switch group {
        case .resource(let statements): try runResources(statements, &request.resourceLogs, report)
        case .scope(let statements): try runScopes(statements, &request.resourceLogs, report)
        case .log(let statements):
            try request.resourceLogs.editItems { (log: inout LogRecord, scope, resource) throws(OTTLRuntimeError) in
                var context = LogContext(log, scope: scope, resource: resource)
                log = LogRecord()
                defer { (log, scope, resource) = (context.item, context.scope, context.resource) }
                try statements.execute(&context, report: report)
            }
        }
    }

    private static func runResources<R: ResourceEntry>(_ statements: OTTLGroup<ResourceContext>, _ entries: inout [R],
                                                       _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try entries.editResources { (resource: inout Resource) throws(OTTLRuntimeError) in
            var context = ResourceContext(resource: resource)
            try statements.execute(&context, report: report)
            resource = context.resource
        }
    }

    private static func runScopes<R: ResourceEntry>(_ statements: OTTLGroup<ScopeContext>, _ entries: inout [R],
                                                    _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try entries.editScopes { (scope: inout InstrumentationScope, resource: inout Resource) throws(OTTLRuntimeError) in
            var context = ScopeContext(scope: scope, resource: resource)
            try statements.execute(&context, report: report)
            (scope, resource) = (context.scope, context.resource)
        }
    }
}
