import OTLP
import Pipeline
import Testing
@testable import Components

/// The collector's own metrics as OTLP: from the Prometheus registry the endpoint serves, named
/// as the Go collector names them over OTLP.
@Suite struct SelfTelemetryTests {
    @Test func countersGaugesAndHistogramsBecomeOTLPMetrics() throws {
        let telemetry = CollectorTelemetry()
        telemetry.counter("otelcol_receiver_accepted_spans_total", [("receiver", "otlp"), ("transport", "grpc")]).increment(by: Int64(5))
        telemetry.gauge("otelcol_kafka_receiver_lag_seconds", [("topic", "otlp_spans")]).set(2.5)
        let histogram = telemetry.histogram("otelcol_processor_batch_batch_send_size", [("processor", "batch")], buckets: [10, 100])
        for value in [5.0, 50, 500, 7] { histogram.record(value) }
        let request = SelfTelemetryPusher.request(fromPrometheus: telemetry.prometheusText(), start: 1, now: 2)
        let metrics = Dictionary(uniqueKeysWithValues: request.resourceMetrics[0].scopeMetrics[0].metrics.map { ($0.name, $0) })
        let accepted = try #require(metrics["otelcol_receiver_accepted_spans"])
        #expect(accepted.sum.isMonotonic && accepted.sum.aggregationTemporality == .cumulative)
        #expect(accepted.sum.dataPoints.map(\.asDouble) == [5])
        #expect(accepted.sum.dataPoints[0].attributes.map { "\($0.key)=\($0.value.stringValue)" } == ["receiver=otlp", "transport=grpc"])
        #expect(metrics["otelcol_kafka_receiver_lag_seconds"]?.gauge.dataPoints.map(\.asDouble) == [2.5])
        let sizes = try #require(metrics["otelcol_processor_batch_batch_send_size"]?.histogram.dataPoints.first)
        #expect(sizes.explicitBounds == [10, 100])
        #expect(sizes.bucketCounts == [2, 1, 1], "5 and 7, 50, 500")
        #expect(sizes.count == 4 && sizes.sum == 562)
        #expect(request.resourceMetrics[0].resource.attributes.first?.value.stringValue == "otelcol-swift")
    }

    @Test func periodicOTLPReadersAreReadFromTheConfig() throws {
        let config = try ConfigDecoder().decode(MetricsConfig.self, from: try ConfigNode.parse(yaml: """
            readers:
              - pull: {exporter: {prometheus: {host: localhost, port: 8888}}}
              - periodic: {interval: 5000, exporter: {otlp: {protocol: http/protobuf, endpoint: "http://backend:4318", headers: [{name: x-tenant, value: ops}]}}}
              - periodic: {exporter: {otlp: {endpoint: "http://backend:4318/v1/metrics"}}}
              - periodic: {exporter: {otlp: {protocol: grpc, endpoint: "backend:4317", insecure: true, compression: none, timeout: 2000}}}
              - periodic: {exporter: {otlp: {protocol: "http/json", endpoint: "http://backend:4318"}}}
            """, origin: "t"))
        let readers = PeriodicOTLPReader.readers(config)
        #expect(readers.map(\.url) == ["http://backend:4318/v1/metrics", "http://backend:4318/v1/metrics", "backend:4317"])
        #expect(readers.map(\.interval) == [.milliseconds(5000), .milliseconds(60_000), .milliseconds(60_000)])
        #expect(readers[0].headers.map { "\($0.0)=\($0.1)" } == ["x-tenant=ops"])
        guard case .grpc(let exporter) = readers[2].transport else {
            Issue.record("the grpc reader goes through an otlp exporter")
            return
        }
        #expect(exporter.plaintext && exporter.compression == .none && exporter.timeout == .milliseconds(2000))
        #expect(exporter.hostAndPort.map { "\($0.host):\($0.port)" } == "backend:4317")
        #expect(config.readerWarnings.count == 1 && config.readerWarnings[0].hasPrefix("readers[4] is accepted but has no effect"))

        // Keys the readers do not act on are named.
        let unused = try ConfigDecoder().decode(MetricsConfig.self, from: try ConfigNode.parse(yaml: """
            readers:
              - periodic: {exporter: {otlp: {endpoint: "http://backend:4318", timeout: 2000, certificate: /ca.pem}}}
              - periodic: {exporter: {otlp: {protocol: grpc, endpoint: "backend:4317", certificate: /ca.pem}}}
            """, origin: "t"))
        #expect(unused.readerWarnings == [
            "readers[0].periodic.exporter.otlp.timeout is accepted but has no effect",
            "readers[0].periodic.exporter.otlp.certificate is accepted but has no effect",
            "readers[1].periodic.exporter.otlp.certificate is accepted but has no effect",
        ])
    }
}
