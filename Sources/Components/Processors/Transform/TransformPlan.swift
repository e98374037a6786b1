import OTTL
import Pipeline

/// The transform config's groups parsed for their contexts, per signal.
struct TransformPlan: Sendable {
    enum TraceGroup: Sendable {
        case resource(OTTLGroup<ResourceContext>)
        case scope(OTTLGroup<ScopeContext>)
        case span(OTTLGroup<SpanContext>)
        case spanEvent(OTTLGroup<SpanEventContext>)
    }

    enum MetricGroup: Sendable {
        case resource(OTTLGroup<ResourceContext>)
        case scope(OTTLGroup<ScopeContext>)
        case metric(OTTLGroup<MetricContext>)
        case dataPoint(OTTLGroup<DataPointContext>)
    }

    enum LogGroup: Sendable {
        case resource(OTTLGroup<ResourceContext>)
        case scope(OTTLGroup<ScopeContext>)
        case log(OTTLGroup<LogContext>)
    }

    var traces: [TraceGroup] = []
    var metrics: [MetricGroup] = []
    var logs: [LogGroup] = []

    init(config: TransformProcessorConfig) throws(ConfigError) {
        let mode = config.error_mode.mode
        for group in try OTTLGroupConfig.parse("trace_statements", config.trace_statements, plain: .statements, errorMode: mode) {
            switch try group.context(allowed: ["spanevent", "span", "resource", "scope"]) {
            case "resource": traces.append(.resource(try group.group()))
            case "scope": traces.append(.scope(try group.group()))
            case "spanevent": traces.append(.spanEvent(try group.group()))
            default: traces.append(.span(try group.group()))
            }
        }
        for group in try OTTLGroupConfig.parse("metric_statements", config.metric_statements, plain: .statements, errorMode: mode) {
            switch try group.context(allowed: ["datapoint", "metric", "resource", "scope"]) {
            case "resource": metrics.append(.resource(try group.group()))
            case "scope": metrics.append(.scope(try group.group()))
            case "datapoint": metrics.append(.dataPoint(try group.group()))
            default: metrics.append(.metric(try group.group()))
            }
        }
        for group in try OTTLGroupConfig.parse("log_statements", config.log_statements, plain: .statements, errorMode: mode) {
            switch try group.context(allowed: ["log", "resource", "scope"]) {
            case "resource": logs.append(.resource(try group.group()))
            case "scope": logs.append(.scope(try group.group()))
            default: logs.append(.log(try group.group()))
            }
        }
    }
}
