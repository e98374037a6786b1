import OTTL
import Pipeline

/// `processors.filter`: OTTL conditions per signal and context; an item is dropped when any of
/// its context's conditions holds.
public struct FilterProcessorConfig: ComponentConfig {
    public struct Traces: ConfigSection {
        public var span: [String] = []
        public var spanevent: [String] = []
        public init() {}
    }

    public struct Metrics: ConfigSection {
        public var metric: [String] = []
        public var datapoint: [String] = []
        public var include: MatchConfig?
        public var exclude: MatchConfig?
        public init() {}
    }

    public struct Logs: ConfigSection {
        public var log_record: [String] = []
        public var include: MatchConfig?
        public var exclude: MatchConfig?
        public init() {}
    }

    /// The legacy match form for spans.
    public struct Spans: ConfigSection {
        public var include: MatchConfig?
        public var exclude: MatchConfig?
        public init() {}
    }

    public var error_mode: ErrorModeOption = .ignore
    public var traces = Traces()
    public var metrics = Metrics()
    public var logs = Logs()
    public var spans = Spans()
    public var trace_conditions: [ConfigNode] = []
    public var metric_conditions: [ConfigNode] = []
    public var log_conditions: [ConfigNode] = []

    public init() {}

    /// Every condition parsed for its context: the per-signal lists and the `*_conditions` groups.
    struct Plan: Sendable {
        var traceResources: [OTTLGroup<ResourceContext>] = []
        var traceScopes: [OTTLGroup<ScopeContext>] = []
        var spans: [OTTLGroup<SpanContext>] = []
        var spanEvents: [OTTLGroup<SpanEventContext>] = []
        var metricResources: [OTTLGroup<ResourceContext>] = []
        var metricScopes: [OTTLGroup<ScopeContext>] = []
        var metrics: [OTTLGroup<MetricContext>] = []
        var dataPoints: [OTTLGroup<DataPointContext>] = []
        var logResources: [OTTLGroup<ResourceContext>] = []
        var logScopes: [OTTLGroup<ScopeContext>] = []
        var logs: [OTTLGroup<LogContext>] = []
        var legacySpans: IncludeExclude
        var legacyMetrics: IncludeExclude
        var legacyLogs: IncludeExclude
    }

    func plan() throws(ConfigError) -> Plan {
        let mode = error_mode.mode
        func classic<C: OTTLContext>(_ conditions: [String], _ path: String) throws(ConfigError) -> [OTTLGroup<C>] {
            conditions.isEmpty ? [] : [OTTLGroup(try .configured(conditions: conditions, conditionsPath: path), errorMode: mode)]
        }
        var plan = Plan(
            spans: try classic(traces.span, "traces.span"),
            spanEvents: try classic(traces.spanevent, "traces.spanevent"),
            metrics: try classic(metrics.metric, "metrics.metric"),
            dataPoints: try classic(metrics.datapoint, "metrics.datapoint"),
            logs: try classic(logs.log_record, "logs.log_record"),
            legacySpans: try IncludeExclude(include: spans.include, exclude: spans.exclude, path: "spans"),
            legacyMetrics: try IncludeExclude(include: metrics.include, exclude: metrics.exclude, path: "metrics"),
            legacyLogs: try IncludeExclude(include: logs.include, exclude: logs.exclude, path: "logs"))
        for group in try OTTLGroupConfig.parse("trace_conditions", trace_conditions, plain: .conditions, errorMode: mode) {
            switch try group.context(allowed: ["spanevent", "span", "resource", "scope"]) {
            case "resource": plan.traceResources.append(try group.group())
            case "scope": plan.traceScopes.append(try group.group())
            case "spanevent": plan.spanEvents.append(try group.group())
            default: plan.spans.append(try group.group())
            }
        }
        for group in try OTTLGroupConfig.parse("metric_conditions", metric_conditions, plain: .conditions, errorMode: mode) {
            switch try group.context(allowed: ["datapoint", "metric", "resource", "scope"]) {
            case "resource": plan.metricResources.append(try group.group())
            case "scope": plan.metricScopes.append(try group.group())
            case "datapoint": plan.dataPoints.append(try group.group())
            default: plan.metrics.append(try group.group())
            }
        }
        for group in try OTTLGroupConfig.parse("log_conditions", log_conditions, plain: .conditions, errorMode: mode) {
            switch try group.context(allowed: ["log", "resource", "scope"]) {
            case "resource": plan.logResources.append(try group.group())
            case "scope": plan.logScopes.append(try group.group())
            default: plan.logs.append(try group.group())
            }
        }
        // As in Go, one signal is filtered by conditions or by include/exclude, not both.
        if !plan.legacySpans.isEmpty, !plan.spans.isEmpty || !plan.spanEvents.isEmpty {
            throw ConfigError(path: "spans", message: "cannot be combined with span or spanevent conditions")
        }
        if !plan.legacyMetrics.isEmpty, !plan.metrics.isEmpty || !plan.dataPoints.isEmpty {
            throw ConfigError(path: "metrics.include", message: "cannot be combined with metric or datapoint conditions")
        }
        if !plan.legacyLogs.isEmpty, !plan.logs.isEmpty {
            throw ConfigError(path: "logs.include", message: "cannot be combined with log conditions")
        }
        return plan
    }

    public func validate() throws(ConfigError) {
        _ = try plan()
    }
}
