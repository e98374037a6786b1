import Foundation
import OTLP

/// Builds sample requests whose every item carries `telemetrygen.seq`, a number unique across
/// the run, so a checker can prove that nothing was lost or duplicated.
struct SampleTelemetry {
    static let sequenceKey = "telemetrygen.seq"

    let service: String
    let childSpans: Int
    let attributes: Int

    private func attribute(_ key: String, _ value: AnyValue) -> KeyValue {
        var kv = KeyValue()
        kv.key = key
        kv.value = value
        return kv
    }

    private func string(_ s: String) -> AnyValue { var v = AnyValue(); v.stringValue = s; return v }
    private func int(_ i: Int64) -> AnyValue { var v = AnyValue(); v.intValue = i; return v }

    private var resource: Resource {
        var resource = Resource()
        resource.attributes = [
            attribute("service.name", string(service)),
            attribute("host.name", string(ProcessInfo.processInfo.hostName)),
            attribute("telemetry.sdk.name", string("otelcol-swift-telemetrygen")),
        ]
        return resource
    }

    private var scope: InstrumentationScope {
        var scope = InstrumentationScope()
        scope.name = "telemetrygen"
        scope.version = OtelcolSwift.version
        return scope
    }

    /// Realistic HTTP-server attributes, as many as asked for.
    private func extraAttributes(_ seq: Int64) -> [KeyValue] {
        let pool: [KeyValue] = [
            attribute("http.request.method", string("GET")),
            attribute("url.path", string("/api/v1/orders/\(seq % 1000)")),
            attribute("http.response.status_code", int(200)),
            attribute("server.address", string("orders.internal")),
            attribute("network.protocol.version", string("1.1")),
            attribute("user_agent.original", string("Mozilla/5.0 (X11; Linux x86_64)")),
            attribute("client.address", string("10.0.\(seq % 250).\(seq % 200)")),
            attribute("http.route", string("/api/v1/orders/{id}")),
        ]
        return (0..<attributes).map { pool[$0 % pool.count] }
    }

    /// `traces` traces of 1 + childSpans spans each; `nextSeq` numbers the spans.
    func traces(count: Int, nextSeq: () -> Int64) -> ExportTraceServiceRequest {
        var scopeSpans = ScopeSpans()
        scopeSpans.scope = scope
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        for _ in 0..<count {
            let traceID = Data((0..<16).map { _ in UInt8.random(in: 0...255) })
            var rootID = Data()
            for index in 0...childSpans {
                var span = Span()
                span.traceID = traceID
                span.spanID = Data((0..<8).map { _ in UInt8.random(in: 0...255) })
                if index == 0 { rootID = span.spanID } else { span.parentSpanID = rootID }
                span.name = index == 0 ? "lets-go" : "okey-dokey-\(index)"
                span.kind = index == 0 ? .client : .server
                span.startTimeUnixNano = now
                span.endTimeUnixNano = now + 1_000_000
                let seq = nextSeq()
                span.attributes = [attribute(Self.sequenceKey, int(seq))] + extraAttributes(seq)
                span.status.code = .ok
                scopeSpans.spans.append(span)
            }
        }
        var resourceSpans = ResourceSpans()
        resourceSpans.resource = resource
        resourceSpans.scopeSpans = [scopeSpans]
        var request = ExportTraceServiceRequest()
        request.resourceSpans = [resourceSpans]
        return request
    }

    func metrics(count: Int, nextSeq: () -> Int64) -> ExportMetricsServiceRequest {
        var scopeMetrics = ScopeMetrics()
        scopeMetrics.scope = scope
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        var metric = Metric()
        metric.name = "gen"
        metric.unit = "1"
        var sum = Opentelemetry_Proto_Metrics_V1_Sum()
        sum.aggregationTemporality = .cumulative
        sum.isMonotonic = true
        for _ in 0..<count {
            var point = NumberDataPoint()
            let seq = nextSeq()
            point.attributes = [attribute(Self.sequenceKey, int(seq))] + extraAttributes(seq)
            point.timeUnixNano = now
            point.startTimeUnixNano = now - 1_000_000_000
            point.asInt = seq
            sum.dataPoints.append(point)
        }
        metric.sum = sum
        scopeMetrics.metrics = [metric]
        var resourceMetrics = ResourceMetrics()
        resourceMetrics.resource = resource
        resourceMetrics.scopeMetrics = [scopeMetrics]
        var request = ExportMetricsServiceRequest()
        request.resourceMetrics = [resourceMetrics]
        return request
    }

    func logs(count: Int, nextSeq: () -> Int64) -> ExportLogsServiceRequest {
        var scopeLogs = ScopeLogs()
        scopeLogs.scope = scope
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        for _ in 0..<count {
            var record = LogRecord()
            let seq = nextSeq()
            record.timeUnixNano = now
            record.observedTimeUnixNano = now
            record.severityNumber = .info
            record.severityText = "Info"
            record.body = string("the message \(seq)")
            record.attributes = [attribute(Self.sequenceKey, int(seq))] + extraAttributes(seq)
            scopeLogs.logRecords.append(record)
        }
        var resourceLogs = ResourceLogs()
        resourceLogs.resource = resource
        resourceLogs.scopeLogs = [scopeLogs]
        var request = ExportLogsServiceRequest()
        request.resourceLogs = [resourceLogs]
        return request
    }
}
