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
        for group in try config.groups("trace_statements", config.trace_statements) {
            switch try Self.context(group, allowed: ["spanevent", "span", "resource", "scope"]) {
            case "resource": traces.append(.resource(try Self.group(group)))
            case "scope": traces.append(.scope(try Self.group(group)))
            case "spanevent": traces.append(.spanEvent(try Self.group(group)))
            default: traces.append(.span(try Self.group(group)))
            }
        }
        for group in try config.groups("metric_statements", config.metric_statements) {
            switch try Self.context(group, allowed: ["datapoint", "metric", "resource", "scope"]) {
            case "resource": metrics.append(.resource(try Self.group(group)))
            case "scope": metrics.append(.scope(try Self.group(group)))
            case "datapoint": metrics.append(.dataPoint(try Self.group(group)))
            default: metrics.append(.metric(try Self.group(group)))
            }
        }
        for group in try config.groups("log_statements", config.log_statements) {
            switch try Self.context(group, allowed: ["log", "resource", "scope"]) {
            case "resource": logs.append(.resource(try Self.group(group)))
            case "scope": logs.append(.scope(try Self.group(group)))
            default: logs.append(.log(try Self.group(group)))
            }
        }
    }

    /// The group's context: as written, or the most specific one its paths name (in the order
    /// `allowed` lists them), as the Go collector infers it.
    private static func context(_ group: TransformProcessorConfig.Group, allowed: [String]) throws(ConfigError) -> String {
        if let context = group.context {
            guard allowed.contains(context) else {
                throw ConfigError(path: "\(group.path).context", message: "must be one of \(allowed.sorted().joined(separator: ", ")), got \"\(context)\"")
            }
            return context
        }
        let named: Set<String>
        do {
            named = try OTTLProgram<ResourceContext>.contexts(statements: group.statements, conditions: group.conditions)
        } catch {
            throw ConfigError(path: group.path, message: "\(error.message) at column \(error.column) of \"\(error.text)\"")
        }
        guard let inferred = allowed.first(where: named.contains) else {
            throw ConfigError(path: group.path, message: "cannot infer the context: prefix paths with one of \(allowed.joined(separator: ", ")) (like span.name)")
        }
        return inferred
    }

    private static func group<C: OTTLContext>(_ group: TransformProcessorConfig.Group) throws(ConfigError) -> OTTLGroup<C> {
        OTTLGroup(try .configured(statements: group.statements, statementsPath: group.context == nil ? group.path : "\(group.path).statements",
                                  conditions: group.conditions, conditionsPath: "\(group.path).conditions"),
                  errorMode: group.errorMode)
    }
}
