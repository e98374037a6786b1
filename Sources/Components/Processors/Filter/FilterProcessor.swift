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
    private let spans: OTTLGroup<SpanContext>
    private let spanEvents: OTTLGroup<SpanEventContext>
    private let metrics: OTTLGroup<MetricContext>
    private let dataPoints: OTTLGroup<DataPointContext>
    private let logs: OTTLGroup<LogContext>
    private let legacySpans: IncludeExclude
    private let legacyMetrics: IncludeExclude
    private let legacyLogs: IncludeExclude
    private let filtered: [Signal: Counter]

    init(settings: ComponentSettings, config: FilterProcessorConfig, next: any Consumer) throws(ConfigError) {
        self.settings = settings
        self.next = next
        let programs = try config.programs()
        let mode = config.error_mode.mode
        spans = OTTLGroup(programs.spans, errorMode: mode)
        spanEvents = OTTLGroup(programs.spanEvents, errorMode: mode)
        metrics = OTTLGroup(programs.metrics, errorMode: mode)
        dataPoints = OTTLGroup(programs.dataPoints, errorMode: mode)
        logs = OTTLGroup(programs.logs, errorMode: mode)
        legacySpans = programs.legacySpans
        legacyMetrics = programs.legacyMetrics
        legacyLogs = programs.legacyLogs
        let labels = [("filter", settings.id.description)]
        filtered = [
            .traces: settings.telemetry.counter("otelcol_processor_filter_spans_filtered_total", labels),
            .metrics: settings.telemetry.counter("otelcol_processor_filter_datapoints_filtered_total", labels),
            .logs: settings.telemetry.counter("otelcol_processor_filter_logs_filtered_total", labels),
        ]
    }

    private func hasConditions(_ signal: Signal) -> Bool {
        switch signal {
        case .traces: !spans.program.conditions.isEmpty || !spanEvents.program.conditions.isEmpty || !legacySpans.isEmpty
        case .metrics: !metrics.program.conditions.isEmpty || !dataPoints.program.conditions.isEmpty || !legacyMetrics.isEmpty
        case .logs: !logs.program.conditions.isEmpty || !legacyLogs.isEmpty
        }
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        guard hasConditions(batch.signal) else { return try await next.consume(batch) }
        var batch = batch
        var request = try batch.requestForProcessing()
        let before = request.itemCount
        var firstError: OTTLRuntimeError?
        let report: (OTTLRuntimeError) -> Void = { error in if firstError == nil { firstError = error } }
        do {
            switch request {
            case .traces(var traces): try filter(&traces, report); request = .traces(traces)
            case .metrics(var data): try filter(&data, report); request = .metrics(data)
            case .logs(var data): try filter(&data, report); request = .logs(data)
            }
        } catch {
            throw PipelineError.permanent("filter: \(error.message)")
        }
        if let firstError { settings.logger.warning("filter condition failed (treated as false): \(firstError.message)") }
        let after = request.itemCount
        filtered[batch.signal]?.increment(by: Int64(before - after))
        guard after > 0 else { return }
        if after < before { batch.replace(with: request) }
        try await next.consume(batch)
    }

    private func filter(_ request: inout ExportTraceServiceRequest, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try request.resourceSpans.keepItems { (span: inout Span, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard legacySpans.passes({ $0.matches(span, scope, resource) }) else { return false }
            var context = SpanContext(span: span, scope: scope, resource: resource)
            if try spans.anyCondition(&context, report: report) { return false }
            guard !spanEvents.program.conditions.isEmpty else { return true }
            var events: [Span.Event] = []
            for event in span.events {
                var eventContext = SpanEventContext(event: event, span: span, scope: scope, resource: resource)
                if !(try spanEvents.anyCondition(&eventContext, report: report)) { events.append(event) }
            }
            span.events = events
            return true
        }
    }

    private func filter(_ request: inout ExportMetricsServiceRequest, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try request.resourceMetrics.keepItems { (metric: inout Metric, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard legacyMetrics.passes({ $0.matches(metric, scope, resource) }) else { return false }
            var context = MetricContext(metric: metric, scope: scope, resource: resource)
            if try metrics.anyCondition(&context, report: report) { return false }
            guard !dataPoints.program.conditions.isEmpty else { return true }
            let owner = metric
            try metric.mapPoints { (point: DataPoint) throws(OTTLRuntimeError) -> DataPoint? in
                var pointContext = DataPointContext(point: point, metric: owner, scope: scope, resource: resource)
                return try dataPoints.anyCondition(&pointContext, report: report) ? nil : point
            }
            // A metric whose every point was dropped is dropped with them.
            return metric.pointCount > 0
        }
    }

    private func filter(_ request: inout ExportLogsServiceRequest, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        try request.resourceLogs.keepItems { (record: inout LogRecord, scope, resource) throws(OTTLRuntimeError) -> Bool in
            guard legacyLogs.passes({ $0.matches(record, scope, resource) }) else { return false }
            var context = LogContext(log: record, scope: scope, resource: resource)
            return !(try logs.anyCondition(&context, report: report))
        }
    }
}
