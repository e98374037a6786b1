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
        public init() {}
    }

    public struct Logs: ConfigSection {
        public var log_record: [String] = []
        public init() {}
    }

    public var error_mode: ErrorModeOption = .ignore
    public var traces = Traces()
    public var metrics = Metrics()
    public var logs = Logs()

    public init() {}

    /// The conditions parsed for their contexts.
    struct Programs {
        var spans: OTTLProgram<SpanContext>
        var spanEvents: OTTLProgram<SpanEventContext>
        var metrics: OTTLProgram<MetricContext>
        var dataPoints: OTTLProgram<DataPointContext>
        var logs: OTTLProgram<LogContext>
    }

    func programs() throws(ConfigError) -> Programs {
        Programs(
            spans: try .configured(conditions: traces.span, conditionsPath: "traces.span"),
            spanEvents: try .configured(conditions: traces.spanevent, conditionsPath: "traces.spanevent"),
            metrics: try .configured(conditions: metrics.metric, conditionsPath: "metrics.metric"),
            dataPoints: try .configured(conditions: metrics.datapoint, conditionsPath: "metrics.datapoint"),
            logs: try .configured(conditions: logs.log_record, conditionsPath: "logs.log_record"))
    }

    public func validate() throws(ConfigError) {
        _ = try programs()
    }
}
