"""The Kafka guide's own pair of configs: edge and backend put logs, metrics and traces on the one
topic `otel-otlp`. Only brokers and endpoints are substituted (and, for the test harness, a
health_check and a metrics address). Everything must reach osmem-server exactly once, each signal
in its own data stream — also records written by a producer that sets no signal header
(confluent-kafka with opentelemetry-proto), while garbage goes to the dead-letter topic."""
import os
import subprocess

import pytest
from confluent_kafka import Producer
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from conftest import BINARY, Collector, new_ports, service_section, wait_until
from kafka_support import KafkaDev, consume_all

TOPIC = "otel-otlp"


@pytest.fixture
def kafka():
    broker = KafkaDev(partitions=4, topics=(TOPIC, "dlq"))
    yield broker
    broker.stop()


def harness(ports, pipelines, extensions=""):
    return service_section(ports, pipelines).replace("extensions:\n", "extensions:\n" + extensions, 1)


def guide_edge(ports, bootstrap):
    return f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{ports['grpc']}
      http:
        endpoint: 127.0.0.1:{ports['http']}
exporters:
  kafka:
    brokers: ["{bootstrap}"]
    logs:
      topic: "otel-otlp"
      encoding: otlp_proto
    metrics:
      topic: "otel-otlp"
      encoding: otlp_proto
    traces:
      topic: "otel-otlp"
      encoding: otlp_proto
""" + harness(ports, """    traces:
      receivers: [otlp]
      exporters: [kafka]
    metrics:
      receivers: [otlp]
      exporters: [kafka]
    logs:
      receivers: [otlp]
      exporters: [kafka]
""")


def guide_backend(ports, bootstrap, es_url, dead_letters=False):
    # dead_letter_topic is ours, beyond the guide: only for the garbage records.
    dlq = '    dead_letter_topic: dlq\n' if dead_letters else ""
    return f"""
receivers:
  kafka:
    brokers: ["{bootstrap}"]
{dlq}    logs:
      topics: ["otel-otlp"]
      encoding: otlp_proto
    metrics:
      topics: ["otel-otlp"]
      encoding: otlp_proto
    traces:
      topics: ["otel-otlp"]
      encoding: otlp_proto
exporters:
  elasticsearch:
    endpoints: ["{es_url}"]
    api_key: "${{ELASTICSEARCH_API_KEY}}"
""" + harness(ports, """    traces:
      receivers: [kafka]
      exporters: [elasticsearch]
    metrics:
      receivers: [kafka]
      exporters: [elasticsearch]
    logs:
      receivers: [kafka]
      exporters: [elasticsearch]
""")


def collector(tmp_path, name, make, *args):
    ports = new_ports()
    folder = tmp_path / name
    folder.mkdir()
    return Collector(folder, make(ports, *args), **ports).start(env=dict(os.environ, ELASTICSEARCH_API_KEY="test-key"))


def assigned(backend):
    """The backend consumes every partition of the topic (its lag series appear once assigned);
    the guide's backend starts at the latest offset, so nothing may be written before that."""
    lag = [k for k in backend.metrics() if k.startswith("otelcol_kafka_receiver_offset_lag{") and TOPIC in k]
    return len(lag) == 4


def telemetrygen(*args):
    result = subprocess.run([str(BINARY), "telemetrygen", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def check(es_url, index, expect):
    return telemetrygen("check", "--elasticsearch", es_url, "--index", index, "--expect", str(expect))


def headerless_records():
    """One request of each signal as a producer without the signal header writes them."""
    span = Span(trace_id=os.urandom(16), span_id=os.urandom(8), name="headerless-span", start_time_unix_nano=1_700_000_000_000_000_000,
                end_time_unix_nano=1_700_000_000_100_000_000)
    traces = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])
    point = NumberDataPoint(time_unix_nano=1_700_000_000_000_000_000, as_int=42,
                            attributes=[KeyValue(key="source", value=AnyValue(string_value="headerless"))])
    metrics = ExportMetricsServiceRequest(resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[
        Metric(name="headerless.gauge", gauge=Gauge(data_points=[point]))])])])
    record = LogRecord(time_unix_nano=1_700_000_000_000_000_000, body=AnyValue(string_value="headerless-log"))
    logs = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[record])])])
    return [traces.SerializeToString(), metrics.SerializeToString(), logs.SerializeToString()]


def test_the_guides_one_topic_configs_deliver_every_signal_exactly_once(tmp_path, kafka, osmem):
    backend = collector(tmp_path, "backend", guide_backend, kafka.bootstrap, osmem.url, True)
    edge = collector(tmp_path, "edge", guide_edge, kafka.bootstrap)
    try:
        assert "carries logs, metrics, traces" in backend.log()
        wait_until(lambda: assigned(backend), timeout=60, what="the backend's partitions")
        grpc = f"127.0.0.1:{edge.ports['grpc']}"
        telemetrygen("traces", "--otlp-endpoint", grpc, "--workers", "2", "--traces", "300", "--child-spans", "1", "--batch-size", "50")
        telemetrygen("metrics", "--otlp-endpoint", grpc, "--workers", "2", "--metrics", "500", "--batch-size", "50")
        telemetrygen("logs", "--otlp-http", "--otlp-endpoint", f"127.0.0.1:{edge.ports['http']}", "--workers", "2", "--logs", "500",
                     "--batch-size", "50")
        # The edge marks each record with its signal, since its signals share a topic.
        records = consume_all(kafka.bootstrap, TOPIC, 10_000, lambda v: 1, timeout=10)
        assert {dict(r.headers() or []).get("otelcol.signal") for r in records} == {b"traces", b"metrics", b"logs"}
        # A producer that sets no header, with garbage between its records.
        producer = Producer({"bootstrap.servers": kafka.bootstrap})
        for value in headerless_records():
            producer.produce(TOPIC, value)
            producer.produce(TOPIC, b"\xff\xfe not an OTLP request")
        assert producer.flush(30) == 0
        for index, expect in (("traces-*", 1200), ("metrics-*", 1000), ("logs-*", 1000)):
            wait_until(lambda: "missing 0," in check(osmem.url, index, expect), timeout=120, what=f"{expect} items in {index}")
            assert "missing 0, duplicates 0" in check(osmem.url, index, expect), check(osmem.url, index, expect)
        indices = {index for index, _, _ in osmem.documents("*")}
        assert {"traces-generic.otel-default", "metrics-generic.otel-default", "logs-generic.otel-default"} <= indices
        names = {source.get("name") for _, _, source in osmem.documents("traces-*")}
        assert "headerless-span" in names
        wait_until(lambda: any(s.get("body", {}).get("text") == "headerless-log" or s.get("body") == "headerless-log"
                               for _, _, s in osmem.documents("logs-*")), timeout=60, what="the headerless log record")
        dead = consume_all(kafka.bootstrap, "dlq", 3, lambda v: 1, timeout=60)
        assert [r.value() for r in dead] == [b"\xff\xfe not an OTLP request"] * 3
    finally:
        edge.stop()
        backend.stop()
