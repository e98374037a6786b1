import OTLP
import OTTL
import Pipeline
import Prometheus

/// `processors.filter`: drops spans, span events, metrics, data points and log records for which
/// any configured OTTL condition holds; containers left empty go too. A batch the processor has
/// no conditions for passes untouched (its bytes are not decoded). Dropped items are counted in
/// `otelcol_processor_filter_{spans,datapoints,logs}_filtered_total`: filtering is intended, not loss.
public final class FilterProcessor: Processor {
    public static let factory = ProcessorFactory(type: "filter", stability: .alpha, config: FilterProcessorConfig.self) { settings, config, _, next in
        try FilterProcessor(settings: settings, config: config, next: next)
    }

    private let settings: ComponentSettings
    private let next: any Consumer
    private let plan: FilterProcessorConfig.Plan
    private let filtered: [Signal: Counter]

    init(settings: ComponentSettings, config: FilterProcessorConfig, next: any Consumer) throws(ConfigError) {
        self.settings = settings
        self.next = next
        plan = try config.plan()
        let labels = [("filter", settings.id.description)]
        filtered = [
            .traces: settings.telemetry.counter("otelcol_processor_filter_spans_filtered_total", labels),
            .metrics: settings.telemetry.counter("otelcol_processor_filter_datapoints_filtered_total", labels),
            .logs: settings.telemetry.counter("otelcol_processor_filter_logs_filtered_total", labels),
        ]
    }

    private func hasConditions(_ signal: Signal) -> Bool {
        switch signal {
        case .traces: !(plan.traceResources.isEmpty && plan.traceScopes.isEmpty && plan.spans.isEmpty && plan.spanEvents.isEmpty && plan.legacySpans.isEmpty)
        case .metrics: !(plan.metricResources.isEmpty && plan.metricScopes.isEmpty && plan.metrics.isEmpty && plan.dataPoints.isEmpty && plan.legacyMetrics.isEmpty)
        case .logs: !(plan.logResources.isEmpty && plan.logScopes.isEmpty && plan.logs.isEmpty && plan.legacyLogs.isEmpty)
        }
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        guard hasConditions(batch.signal) else { return try await next.consume(batch) }
        var batch = batch
        var request = try batch.requestForProcessing()
        let before = request.itemCount
        try runOTTL("filter condition", ignoredAs: "treated as false", logger: settings.logger) { report throws(OTTLRuntimeError) in
            switch request {
            case .traces(var traces): try filter(&traces, report); request = .traces(traces)
            case .metrics(var data): try filter(&data, report); request = .metrics(data)
            case .logs(var data): try filter(&data, report); request = .logs(data)
            }
        }
        let after = request.itemCount
        filtered[batch.signal]?.increment(by: Int64(before - after))
        guard after > 0 else { return }
        if after < before { batch.replace(with: request) }
        try await next.consume(batch)
    }

    private func filter(_ request: inout ExportTraceServiceRequest, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try dropResourcesAndScopes(&request.resourceSpans, plan.traceResources, plan.traceScopes, report)
        try request.resourceSpans.keepItems { (span: inout Span, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard plan.legacySpans.passes({ $0.matches(span, scope, resource) }) else { return false }
            var context = SpanContext(span, scope: scope, resource: resource)
            if try Self.anyHolds(plan.spans, &context, report) { return false }
            guard !plan.spanEvents.isEmpty else { return true }
            var events: [Span.Event] = []
            for event in span.events {
                var eventContext = SpanEventContext(event: event, span: span, scope: scope, resource: resource)
                if !(try Self.anyHolds(plan.spanEvents, &eventContext, report)) { events.append(event) }
            }
            span.events = events
            return true
        }
    }

    private func filter(_ request: inout ExportMetricsServiceRequest, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try dropResourcesAndScopes(&request.resourceMetrics, plan.metricResources, plan.metricScopes, report)
        try request.resourceMetrics.keepItems { (metric: inout Metric, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard plan.legacyMetrics.passes({ $0.matches(metric, scope, resource) }) else { return false }
            var context = MetricContext(metric, scope: scope, resource: resource)
            if try Self.anyHolds(plan.metrics, &context, report) { return false }
            guard !plan.dataPoints.isEmpty else { return true }
            let owner = metric
            try metric.mapPoints { (point: DataPoint) throws(OTTLRuntimeError) -> DataPoint? in
                var pointContext = DataPointContext(point: point, metric: owner, scope: scope, resource: resource)
                return try Self.anyHolds(plan.dataPoints, &pointContext, report) ? nil : point
            }
            // A metric whose every point was dropped is dropped with them.
            return metric.pointCount > 0
        }
    }

    private func filter(_ request: inout ExportLogsServiceRequest, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try dropResourcesAndScopes(&request.resourceLogs, plan.logResources, plan.logScopes, report)
        try request.resourceLogs.keepItems { (record: inout LogRecord, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard plan.legacyLogs.passes({ $0.matches(record, scope, resource) }) else { return false }
            var context = LogContext(record, scope: scope, resource: resource)
            return !(try Self.anyHolds(plan.logs, &context, report))
        }
    }

    private func dropResourcesAndScopes<R: ResourceEntry>(_ entries: inout [R], _ resources: [OTTLGroup<ResourceContext>],
                                                          _ scopes: [OTTLGroup<ScopeContext>],
                                                          _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        guard !resources.isEmpty || !scopes.isEmpty else { return }
        try entries.keepResourcesAndScopes({ (resource: Resource) throws(OTTLRuntimeError) -> Bool in
            var context = ResourceContext(resource: resource)
            return !(try Self.anyHolds(resources, &context, report))
        }, { (scope: InstrumentationScope, resource: Resource) throws(OTTLRuntimeError) -> Bool in
            var context = ScopeContext(scope: scope, resource: resource)
            return !(try Self.anyHolds(scopes, &context, report))
        })
    }

    private static func anyHolds<C: OTTLContext>(_ groups: [OTTLGroup<C>], _ context: inout C,
                                                 _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> Bool {
        for group in groups where try group.anyCondition(&context, report: report) { return true }
        return false
    }
}
