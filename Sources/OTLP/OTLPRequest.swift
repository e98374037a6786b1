import SwiftProtobuf

/// A decoded OTLP export request of any signal.
public enum OTLPRequest: Sendable, Equatable {
    case traces(ExportTraceServiceRequest)
    case metrics(ExportMetricsServiceRequest)
    case logs(ExportLogsServiceRequest)

    public var signal: Signal {
        switch self {
        case .traces: .traces
        case .metrics: .metrics
        case .logs: .logs
        }
    }

    public init(signal: Signal, protobuf bytes: [UInt8]) throws(OTLPDecodingError) {
        do {
            switch signal {
            case .traces: self = .traces(try ExportTraceServiceRequest(serializedBytes: bytes))
            case .metrics: self = .metrics(try ExportMetricsServiceRequest(serializedBytes: bytes))
            case .logs: self = .logs(try ExportLogsServiceRequest(serializedBytes: bytes))
            }
        } catch {
            throw OTLPDecodingError("invalid protobuf: \(error)")
        }
    }

    /// Spans, data points or log records in the request.
    public var itemCount: Int {
        switch self {
        case .traces(let r):
            r.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
        case .logs(let r):
            r.resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } }
        case .metrics(let r):
            r.resourceMetrics.reduce(0) { $0 + $1.scopeMetrics.reduce(0) { $0 + $1.metrics.reduce(0) { $0 + $1.dataPointCount } } }
        }
    }
}

extension Metric {
    public var dataPointCount: Int {
        switch data {
        case .gauge(let g): g.dataPoints.count
        case .sum(let s): s.dataPoints.count
        case .histogram(let h): h.dataPoints.count
        case .exponentialHistogram(let h): h.dataPoints.count
        case .summary(let s): s.dataPoints.count
        case nil: 0
        }
    }
}
