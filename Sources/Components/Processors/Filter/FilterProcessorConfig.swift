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

    public init() {}

    /// The conditions parsed for their contexts.
    struct Programs {
        var spans: OTTLProgram<SpanContext>
        var spanEvents: OTTLProgram<SpanEventContext>
        var metrics: OTTLProgram<MetricContext>
        var dataPoints: OTTLProgram<DataPointContext>
        var logs: OTTLProgram<LogContext>
        var legacySpans: IncludeExclude
        var legacyMetrics: IncludeExclude
        var legacyLogs: IncludeExclude
    }

    func programs() throws(ConfigError) -> Programs {
        let programs = Programs(
            spans: try .configured(conditions: traces.span, conditionsPath: "traces.span"),
            spanEvents: try .configured(conditions: traces.spanevent, conditionsPath: "traces.spanevent"),
            metrics: try .configured(conditions: metrics.metric, conditionsPath: "metrics.metric"),
            dataPoints: try .configured(conditions: metrics.datapoint, conditionsPath: "metrics.datapoint"),
            logs: try .configured(conditions: logs.log_record, conditionsPath: "logs.log_record"),
            legacySpans: try IncludeExclude(include: spans.include, exclude: spans.exclude, path: "spans"),
            legacyMetrics: try IncludeExclude(include: metrics.include, exclude: metrics.exclude, path: "metrics"),
            legacyLogs: try IncludeExclude(include: logs.include, exclude: logs.exclude, path: "logs"))
        // As in Go, one signal is filtered by conditions or by include/exclude, not both.
        if !programs.legacySpans.isEmpty, !traces.span.isEmpty || !traces.spanevent.isEmpty {
            throw ConfigError(path: "spans", message: "cannot be combined with traces.span / traces.spanevent conditions")
        }
        if !programs.legacyMetrics.isEmpty, !metrics.metric.isEmpty || !metrics.datapoint.isEmpty {
            throw ConfigError(path: "metrics.include", message: "cannot be combined with metrics.metric / metrics.datapoint conditions")
        }
        if !programs.legacyLogs.isEmpty, !logs.log_record.isEmpty {
            throw ConfigError(path: "logs.include", message: "cannot be combined with logs.log_record conditions")
        }
        return programs
    }

    public func validate() throws(ConfigError) {
        _ = try programs()
    }
}
