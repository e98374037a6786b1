import OTLP
import OTTL

/// Filtering an encoded batch without decoding it: conditions read fields where they lie in the
/// received bytes (the `Wire*Context`s), and `WireRewrite` copies what is kept. When nothing is
/// dropped the batch's bytes go on as they came.
///
/// Taken for a signal unless its conditions need the model: the legacy include/exclude form and
/// data point conditions still run on the decoded path, as does a batch that is decoded already or
/// holds a singular sub-message twice (which decoders merge).
struct FilterEncodedPlan: Sendable {
    var traceResources: [OTTLGroup<WireResourceContext>] = []
    var traceScopes: [OTTLGroup<WireScopeContext>] = []
    var spans: [OTTLGroup<WireSpanContext>] = []
    var spanEvents: [OTTLGroup<WireSpanEventContext>] = []
    var metricResources: [OTTLGroup<WireResourceContext>] = []
    var metricScopes: [OTTLGroup<WireScopeContext>] = []
    var metrics: [OTTLGroup<WireMetricContext>] = []
    var logResources: [OTTLGroup<WireResourceContext>] = []
    var logScopes: [OTTLGroup<WireScopeContext>] = []
    var logs: [OTTLGroup<WireLogContext>] = []
    /// The item conditions compiled whole, when they are (tested without a context per item).
    let spanConditions: WireItemConditions<WireSpanFields>?
    let metricConditions: WireItemConditions<WireMetricFields>?
    let logConditions: WireItemConditions<WireLogFields>?
    let signals: Set<Signal>

    init(_ plan: FilterProcessorConfig.Plan) {
        traceResources = plan.traceResources.map(OTTLGroup.init)
        traceScopes = plan.traceScopes.map(OTTLGroup.init)
        spans = plan.spans.map(OTTLGroup.init)
        spanEvents = plan.spanEvents.map(OTTLGroup.init)
        metricResources = plan.metricResources.map(OTTLGroup.init)
        metricScopes = plan.metricScopes.map(OTTLGroup.init)
        metrics = plan.metrics.map(OTTLGroup.init)
        logResources = plan.logResources.map(OTTLGroup.init)
        logScopes = plan.logScopes.map(OTTLGroup.init)
        logs = plan.logs.map(OTTLGroup.init)
        spanConditions = WireItemConditions(spans)
        metricConditions = WireItemConditions(metrics)
        logConditions = WireItemConditions(logs)
        var signals: Set<Signal> = []
        if plan.legacySpans.isEmpty { signals.insert(.traces) }
        if plan.legacyMetrics.isEmpty, plan.dataPoints.isEmpty { signals.insert(.metrics) }
        if plan.legacyLogs.isEmpty { signals.insert(.logs) }
        self.signals = signals
    }

    func resources(_ signal: Signal) -> [OTTLGroup<WireResourceContext>] {
        switch signal {
        case .traces: traceResources
        case .metrics: metricResources
        case .logs: logResources
        }
    }

    func scopes(_ signal: Signal) -> [OTTLGroup<WireScopeContext>] {
        switch signal {
        case .traces: traceScopes
        case .metrics: metricScopes
        case .logs: logScopes
        }
    }

    /// The request with the items the conditions drop left out, or nil when none is dropped.
    func filter(_ signal: Signal, _ bytes: [UInt8], itemCount: Int,
                _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        let resources = resources(signal), scopes = scopes(signal)
        return try WireRewrite.rewrite(signal, bytes, itemCount: itemCount, keepResource: { resource in
            guard !resources.isEmpty else { return true }
            var context = WireResourceContext(resource: resource)
            return !(try anyHolds(resources, &context, report))
        }, keepScope: { scope, resource in
            guard !scopes.isEmpty else { return true }
            var context = WireScopeContext(scope: scope, resource: resource)
            return !(try anyHolds(scopes, &context, report))
        }, item: { item, scope, resource, bodies in
            switch signal {
            case .traces: return try decideSpan(item, scope, resource, &bodies, report)
            case .metrics:
                if let metricConditions {
                    return try metricConditions.anyHolds(item, scope: scope, resource: resource, report: report) ? .drop : .keep
                }
                var context = WireMetricContext(item, scope: scope, resource: resource)
                return try anyHolds(metrics, &context, report) ? .drop : .keep
            case .logs:
                if let logConditions {
                    return try logConditions.anyHolds(item, scope: scope, resource: resource, report: report) ? .drop : .keep
                }
                var context = WireLogContext(item, scope: scope, resource: resource)
                return try anyHolds(logs, &context, report) ? .drop : .keep
            }
        })
    }

    /// A span goes when a span condition holds; otherwise the events a spanevent condition holds
    /// for go from it.
    private func decideSpan(_ span: WireFields, _ scope: WireFields, _ resource: WireFields, _ bodies: inout WireWriter,
                            _ report: (OTTLRuntimeError) -> Void) throws -> WireItemDecision {
        if let spanConditions {
            if try spanConditions.anyHolds(span, scope: scope, resource: resource, report: report) { return .drop }
        } else {
            var context = WireSpanContext(span, scope: scope, resource: resource)
            if try anyHolds(spans, &context, report) { return .drop }
        }
        guard !spanEvents.isEmpty, span.has(11) else { return .keep }
        var dropped: [Bool] = []
        try span.forEach(11) { (body: Range<Int>) throws -> Bool in
            var context = WireSpanEventContext(event: try WireFields(span.buffer, body), span: span, scope: scope, resource: resource)
            dropped.append(try anyHolds(spanEvents, &context, report))
            return true
        }
        guard dropped.contains(true) else { return .keep }
        let start = bodies.bytes.count
        try span.write(dropping: 11, into: &bodies) { dropped[$0] }
        return .written(start..<bodies.bytes.count)
    }
}

/// Whether any group's condition holds for the context.
func anyHolds<C: OTTLContext>(_ groups: [OTTLGroup<C>], _ context: inout C,
                              _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> Bool {
    for group in groups where try group.anyCondition(&context, report: report) { return true }
    return false
}
