/// The `service` section: which extensions run, the pipelines, and the collector's own telemetry.
public struct ServiceConfig: ConfigSection {
    public var extensions: [String] = []
    public var pipelines: [String: PipelineConfig] = [:]
    public var telemetry = TelemetryConfig()

    public init() {}
}

public struct PipelineConfig: ConfigSection {
    public var receivers: [String] = []
    public var processors: [String] = []
    public var exporters: [String] = []

    public init() {}
}

/// `service.telemetry`. Only `logs.level` and the metrics endpoint take effect; the other Go
/// collector keys are accepted so existing configs load, each named in a warning.
public struct TelemetryConfig: ConfigSection {
    public var logs = LogsConfig()
    public var metrics = MetricsConfig()

    public init() {}

    public static let inertKeys = [
        InertKey("resource", "the collector's own metrics carry no resource attributes"),
        InertKey("traces", "the collector does not trace itself"),
    ] + ["encoding", "development", "disable_caller", "disable_stacktrace", "output_paths", "error_output_paths",
         "initial_fields", "sampling", "processors"].map { InertKey("logs.\($0)", "logs go to stderr as text lines") }
}

public struct LogsConfig: ConfigSection {
    public enum Level: String, ConfigOption { case debug, info, warn, error }
    public var level: Level = .info

    public init() {}
}

public struct MetricsConfig: ConfigSection {
    public enum Level: String, ConfigOption { case none, basic, normal, detailed }
    public var level: Level = .normal
    /// The older form: `address: host:port`.
    public var address: String?
    /// The newer form: `readers: [{pull: {exporter: {prometheus: {host, port}}}}]`.
    public var readers: [ConfigNode]?

    public init() {}

    /// Readers this collector does not run (only a Prometheus pull reader and a `periodic` reader
    /// with an `otlp` exporter over `http/protobuf` or `grpc` are), and keys of a periodic
    /// reader's `otlp` exporter it does not act on.
    public var readerWarnings: [String] {
        (readers ?? []).enumerated().flatMap { index, reader -> [String] in
            if reader.node(at: ["pull", "exporter", "prometheus"]) != nil { return [] }
            guard let otlp = reader.node(at: ["periodic", "exporter", "otlp"]), otlp["endpoint"] != nil else {
                return ["readers[\(index)] is accepted but has no effect: the collector's metrics go out only through a Prometheus pull reader or a periodic reader with an otlp exporter over http/protobuf or grpc"]
            }
            let acted: Set<String>
            switch otlp["protocol"] {
            case nil, .scalar("http/protobuf", _)?: acted = ["protocol", "endpoint", "headers"]
            case .scalar("grpc", _)?: acted = ["protocol", "endpoint", "headers", "insecure", "compression", "timeout"]
            default:
                return ["readers[\(index)] is accepted but has no effect: the collector's metrics go out only through a Prometheus pull reader or a periodic reader with an otlp exporter over http/protobuf or grpc"]
            }
            return otlp.keys.filter { !acted.contains($0) }.map { "readers[\(index)].periodic.exporter.otlp.\($0) is accepted but has no effect" }
        }
    }

    /// Where the Prometheus endpoint listens, or nil when metrics are off.
    public func prometheusEndpoint() throws(ConfigError) -> (host: String, port: Int)? {
        if level == .none { return nil }
        if let readers {
            for (index, reader) in readers.enumerated() {
                guard let prometheus = reader.node(at: ["pull", "exporter", "prometheus"]) else { continue }
                var host = "localhost"
                if case .scalar(let h, _)? = prometheus["host"] { host = h }
                guard case .scalar(let portText, _)? = prometheus["port"], let port = Int(portText) else {
                    throw ConfigError(path: "readers[\(index)].pull.exporter.prometheus.port", message: "a port number is required")
                }
                return (host, port)
            }
            return nil
        }
        let endpoint = address ?? "localhost:8888"
        guard let split = HTTPServer.split(endpoint: endpoint) else {
            throw ConfigError(path: "address", message: "expected host:port, got \"\(endpoint)\"")
        }
        return split
    }
}
