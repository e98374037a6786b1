import OTLP
import OTTL
import Pipeline
import Prometheus

/// `processors.filter`: drops spans, span events, metrics, data points and log records for which
/// any configured OTTL condition holds; containers left empty go too. A batch the processor has
/// no conditions for passes untouched (its bytes are not decoded); others are filtered on their
/// encoding where the conditions allow (`FilterEncodedPath.swift`), else on the decoded model.
/// Dropped items are counted in `otelcol_processor_filter_{spans,datapoints,logs}_filtered_total`:
/// filtering is intended, not loss.
public final class FilterProcessor: Processor {
    public static let factory = ProcessorFactory(type: "filter", stability: .alpha, config: FilterProcessorConfig.self) { settings, config, _, next in
        try FilterProcessor(settings: settings, config: config, next: next)
    }

    private let settings: ComponentSettings
    private let next: any Consumer
    private let plan: FilterProcessorConfig.Plan
    private let encodedPlan: FilterEncodedPlan
    private let filtered: [Signal: Counter]

    init(settings: ComponentSettings, config: FilterProcessorConfig, next: any Consumer) throws(ConfigError) {
        self.settings = settings
        self.next = next
        plan = try config.plan()
        encodedPlan = FilterEncodedPlan(plan)
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
        let before = batch.itemCount
        var done = false
        if !batch.isDecoded, encodedPlan.signals.contains(batch.signal) { done = try filterEncoded(&batch) }
        if !done { try filterDecoded(&batch) }
        filtered[batch.signal]?.increment(by: Int64(before - batch.itemCount))
        guard batch.itemCount > 0 else { return }
        try await next.consume(batch)
    }

    /// False when the batch's encoding has a shape only the decoded path reads right.
    private func filterEncoded(_ batch: inout TelemetryBatch) throws -> Bool {
        let signal = batch.signal, bytes = batch.encoded(), count = batch.itemCount
        return try runOnEncoding {
            try runOTTL("filter condition", ignoredAs: "treated as false", logger: settings.logger) { report in
                if let kept = try encodedPlan.filter(signal, bytes, itemCount: count, report) { batch.replace(withTrustedProtobuf: kept.bytes, itemCount: kept.items) }
            }
        }
    }

    private func filterDecoded(_ batch: inout TelemetryBatch) throws {
        var request = try batch.requestForProcessing()
        let before = request.itemCount
        var eventsDropped = false
        try runOTTL("filter condition", ignoredAs: "treated as false", logger: settings.logger) { report throws(OTTLRuntimeError) in
            switch request {
            case .traces(var traces): try filter(&traces, &eventsDropped, report); request = .traces(traces)
            case .metrics(var data): try filter(&data, report); request = .metrics(data)
            case .logs(var data): try filter(&data, report); request = .logs(data)
            }
        }
        if request.itemCount < before || eventsDropped { batch.replace(with: request) }
    }

    private func filter(_ request: inout ExportTraceServiceRequest, _ eventsDropped: inout Bool,
                        _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try dropResourcesAndScopes(&request.resourceSpans, plan.traceResources, plan.traceScopes, report)
        try request.resourceSpans.keepItems { (span: inout Span, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard plan.legacySpans.passes({ $0.matches(span, scope, resource) }) else { return false }
            var context = SpanContext(span, scope: scope, resource: resource)
            if try anyHolds(plan.spans, &context, report) { return false }
            guard !plan.spanEvents.isEmpty else { return true }
            var events: [Span.Event] = []
            for event in span.events {
                var eventContext = SpanEventContext(event: event, span: span, scope: scope, resource: resource)
                if !(try anyHolds(plan.spanEvents, &eventContext, report)) { events.append(event) }
            }
            if events.count < span.events.count {
                span.events = events
                eventsDropped = true
            }
            return true
        }
    }

    private func filter(_ request: inout ExportMetricsServiceRequest, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try dropResourcesAndScopes(&request.resourceMetrics, plan.metricResources, plan.metricScopes, report)
        try request.resourceMetrics.keepItems { (metric: inout Metric, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard plan.legacyMetrics.passes({ $0.matches(metric, scope, resource) }) else { return false }
            var context = MetricContext(metric, scope: scope, resource: resource)
            if try anyHolds(plan.metrics, &context, report) { return false }
            guard !plan.dataPoints.isEmpty else { return true }
            let owner = metric
            try metric.mapPoints { (point: DataPoint) throws(OTTLRuntimeError) -> DataPoint? in
                var pointContext = DataPointContext(point: point, metric: owner, scope: scope, resource: resource)
                return try anyHolds(plan.dataPoints, &pointContext, report) ? nil : point
            }
            // A metric whose every point was dropped is dropped with them.
            return metric.dataPointCount > 0
        }
    }

    private func filter(_ request: inout ExportLogsServiceRequest, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try dropResourcesAndScopes(&request.resourceLogs, plan.logResources, plan.logScopes, report)
        try request.resourceLogs.keepItems { (record: inout LogRecord, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard plan.legacyLogs.passes({ $0.matches(record, scope, resource) }) else { return false }
            var context = LogContext(record, scope: scope, resource: resource)
            return !(try anyHolds(plan.logs, &context, report))
        }
    }

    private func dropResourcesAndScopes<R: ResourceEntry>(_ entries: inout [R], _ resources: [OTTLGroup<ResourceContext>],
                                                          _ scopes: [OTTLGroup<ScopeContext>],
                                                          _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        guard !resources.isEmpty || !scopes.isEmpty else { return }
        try entries.keepResourcesAndScopes({ (resource: Resource) throws(OTTLRuntimeError) -> Bool in
            var context = ResourceContext(resource: resource)
            return !(try anyHolds(resources, &context, report))
        }, { (scope: InstrumentationScope, resource: Resource) throws(OTTLRuntimeError) -> Bool in
            var context = ScopeContext(scope: scope, resource: resource)
            return !(try anyHolds(scopes, &context, report))
        })
    }

}
