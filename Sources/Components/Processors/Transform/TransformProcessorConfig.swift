import OTTL
import Pipeline

/// `processors.transform`: per signal, groups of OTTL statements for a context, run in order.
/// A group is `{context, conditions, statements, error_mode}`, or the whole list is plain
/// statement strings whose context is inferred from their paths.
public struct TransformProcessorConfig: ComponentConfig {
    public var error_mode: ErrorModeOption = .ignore
    public var trace_statements: [ConfigNode] = []
    public var metric_statements: [ConfigNode] = []
    public var log_statements: [ConfigNode] = []
    public var flatten_data = false

    public init() {}

    public func validate() throws(ConfigError) {
        _ = try TransformPlan(config: self)
        if flatten_data { throw ConfigError(path: "flatten_data", message: "not supported yet") }
    }
}
