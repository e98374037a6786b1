/// The three OTLP signals a pipeline can carry.
public enum Signal: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case traces
    case metrics
    case logs

    public var description: String { rawValue }

    /// What one item of this signal is called in metric names (`otelcol_receiver_accepted_spans`).
    public var itemName: String {
        switch self {
        case .traces: "spans"
        case .metrics: "metric_points"
        case .logs: "log_records"
        }
    }

    /// The OTLP/HTTP path the spec assigns to this signal.
    public var defaultHTTPPath: String { "/v1/\(rawValue)" }

    /// The fully qualified gRPC method of the signal's collector service.
    public var grpcService: String {
        switch self {
        case .traces: "opentelemetry.proto.collector.trace.v1.TraceService"
        case .metrics: "opentelemetry.proto.collector.metrics.v1.MetricsService"
        case .logs: "opentelemetry.proto.collector.logs.v1.LogsService"
        }
    }
}
