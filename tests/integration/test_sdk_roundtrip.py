"""Real OTLP clients (the OpenTelemetry Python SDK's exporters) send every signal over gRPC and
HTTP; the file exporter's output is decoded with the independent opentelemetry-proto package and
compared with the SDK's own encoding of the same data, message by message."""
import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from conftest import read_length_prefixed

RESOURCE = Resource.create({"service.name": "checkout", "deployment.environment": "test", "host.cpus": 2,
                            "feature.enabled": True, "load": 0.75, "zones": ["a", "b"]})


def make_spans():
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("shop.cart", "2.1.0", attributes={"scope.attr": "s"})
    with tracer.start_as_current_span("root", kind=SpanKind.SERVER,
                                      attributes={"str": "v", "bool": True, "int": -42, "float": 3.25,
                                                  "strs": ["x", "y"], "bools": [True, False],
                                                  "ints": [1, 2, 3], "floats": [0.5, 1.5]}) as root:
        root.add_event("cache.miss", {"key": "user:7", "attempt": 2})
        with tracer.start_as_current_span("child", kind=SpanKind.CLIENT,
                                          links=[Link(root.get_span_context(), {"link.kind": "follows"})]) as child:
            child.set_status(Status(StatusCode.ERROR, "payment declined"))
        for i in range(3):
            with tracer.start_as_current_span(f"db-{i}", kind=SpanKind.INTERNAL) as span:
                span.set_attribute("db.statement", "SELECT 1")
        root.set_status(Status(StatusCode.OK))
    provider.shutdown()
    return memory.get_finished_spans()


def make_metrics():
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader],
                             views=[View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation())])
    meter = provider.get_meter("shop.metrics", "1.0.0")
    meter.create_counter("orders", unit="1", description="orders placed").add(5, {"region": "eu"})
    meter.create_up_down_counter("queue.depth").add(-3, {"queue": "q1"})
    histogram = meter.create_histogram("latency", unit="ms")
    for value in (1.0, 7.5, 250.0):
        histogram.record(value, {"route": "/cart"})
    exponential = meter.create_histogram("latency.exp", unit="ms")
    for value in (0.5, 3.0, 1000.0):
        exponential.record(value)
    meter.create_observable_gauge("temperature", callbacks=[lambda _: [__import__("opentelemetry.metrics", fromlist=["Observation"]).Observation(21.5, {"room": "a"})]])
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def make_logs():
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger("shop.logs", "0.3.0")
    logger.emit(body="plain text line", severity_number=SeverityNumber.INFO, severity_text="INFO",
                attributes={"user": "u1", "n": 3}, timestamp=1_700_000_000_000_000_000)
    logger.emit(body={"event": "checkout", "items": [1, 2], "nested": {"ok": True}},
                severity_number=SeverityNumber.ERROR, timestamp=1_700_000_000_000_000_001, event_name="shop.checkout")
    logger.emit(body=12345, severity_number=SeverityNumber.DEBUG)
    logger.emit(body=b"\x00\x01binary", severity_number=SeverityNumber.WARN)
    provider.shutdown()
    return memory.get_finished_logs()


def merged(messages, request_type):
    """All resource entries of several export requests, as one request."""
    out = request_type()
    for message in messages:
        out.MergeFrom(message)
    return out


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_every_signal_arrives_exactly_as_sent(make_collector, ports, tmp_path, transport):
    make_collector()
    spans, metrics, logs = make_spans(), make_metrics(), make_logs()
    if transport == "grpc":
        endpoint = f"127.0.0.1:{ports['grpc']}"
        exporters = (GrpcSpanExporter(endpoint=endpoint, insecure=True),
                     GrpcMetricExporter(endpoint=endpoint, insecure=True),
                     GrpcLogExporter(endpoint=endpoint, insecure=True))
    else:
        base = f"http://127.0.0.1:{ports['http']}"
        exporters = (HttpSpanExporter(endpoint=f"{base}/v1/traces"),
                     HttpMetricExporter(endpoint=f"{base}/v1/metrics"),
                     HttpLogExporter(endpoint=f"{base}/v1/logs"))
    span_exporter, metric_exporter, log_exporter = exporters
    assert span_exporter.export(spans).name == "SUCCESS"
    assert metric_exporter.export(metrics).name == "SUCCESS"
    assert log_exporter.export(logs).name == "SUCCESS"

    # The SDK's exporters returned only after the collector answered, and the collector answers
    # only after the file was written: the output is complete now.
    traces_out = merged(read_length_prefixed(tmp_path / "traces.out", ExportTraceServiceRequest), ExportTraceServiceRequest)
    assert traces_out == encode_spans(spans)
    assert sum(len(s.spans) for rs in traces_out.resource_spans for s in rs.scope_spans) == 5

    metrics_out = merged(read_length_prefixed(tmp_path / "metrics.out", ExportMetricsServiceRequest), ExportMetricsServiceRequest)
    assert metrics_out == encode_metrics(metrics)
    kinds = {m.WhichOneof("data") for rm in metrics_out.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert kinds == {"sum", "histogram", "exponential_histogram", "gauge"}

    logs_out = merged(read_length_prefixed(tmp_path / "logs.out", ExportLogsServiceRequest), ExportLogsServiceRequest)
    assert logs_out == encode_logs(logs)
    bodies = [r.body.WhichOneof("value") for rl in logs_out.resource_logs for sl in rl.scope_logs for r in sl.log_records]
    assert sorted(bodies) == sorted(["string_value", "kvlist_value", "int_value", "bytes_value"])

    for exporter in exporters:
        exporter.shutdown()


def test_internal_metrics_count_what_was_accepted_and_sent(make_collector, ports):
    collector = make_collector()
    spans = make_spans()
    exporter = GrpcSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
    assert exporter.export(spans).name == "SUCCESS"
    exporter.shutdown()
    values = collector.metrics()
    assert values['otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"}'] == 5
    assert values['otelcol_exporter_sent_spans_total{exporter="file/traces"}'] == 5
    assert values['otelcol_receiver_refused_spans_total{receiver="otlp",transport="grpc"}'] == 0
