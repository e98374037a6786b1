// Short names for the generated OTLP types used across the project.

public typealias ExportTraceServiceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
public typealias ExportTraceServiceResponse = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse
public typealias ExportMetricsServiceRequest = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest
public typealias ExportMetricsServiceResponse = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse
public typealias ExportLogsServiceRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
public typealias ExportLogsServiceResponse = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse

public typealias ResourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans
public typealias ScopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans
public typealias Span = Opentelemetry_Proto_Trace_V1_Span
public typealias SpanStatus = Opentelemetry_Proto_Trace_V1_Status
public typealias ResourceMetrics = Opentelemetry_Proto_Metrics_V1_ResourceMetrics
public typealias ScopeMetrics = Opentelemetry_Proto_Metrics_V1_ScopeMetrics
public typealias Metric = Opentelemetry_Proto_Metrics_V1_Metric
public typealias NumberDataPoint = Opentelemetry_Proto_Metrics_V1_NumberDataPoint
public typealias HistogramDataPoint = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint
public typealias ResourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs
public typealias ScopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs
public typealias LogRecord = Opentelemetry_Proto_Logs_V1_LogRecord
public typealias Resource = Opentelemetry_Proto_Resource_V1_Resource
public typealias InstrumentationScope = Opentelemetry_Proto_Common_V1_InstrumentationScope
public typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue
public typealias AnyValue = Opentelemetry_Proto_Common_V1_AnyValue
public typealias RPCStatus = Google_Rpc_Status

extension Span.SpanKind {
    /// The kind as the Go collector names it (`Server`), for documents and OTTL's `kind.string`.
    public var displayName: String {
        switch rawValue {
        case 1: "Internal"
        case 2: "Server"
        case 3: "Client"
        case 4: "Producer"
        case 5: "Consumer"
        default: "Unspecified"
        }
    }
}

extension SpanStatus.StatusCode {
    /// The code as the Go collector names it (`Ok`).
    public var displayName: String {
        switch rawValue {
        case 1: "Ok"
        case 2: "Error"
        default: "Unset"
        }
    }
}
