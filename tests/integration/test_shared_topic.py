"""The Kafka guide's own pair of configs: edge and backend put logs, metrics and traces on the one
topic `otel-otlp`. Only brokers and endpoints are substituted (and, for the test harness, a
health_check and a metrics address). Everything must reach osmem-server exactly once, each signal
in its own data stream, through two backends sharing the guide's consumer group — also records
written by producers that set no signal header (rotel's kafka exporter; confluent-kafka with
opentelemetry-proto, in protobuf and JSON), while garbage goes to the dead-letter topic."""
import json
import os
import subprocess
import time

import pytest
from confluent_kafka import Producer
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from conftest import BINARY, Collector, free_port, new_ports, rotel_agent, service_section, wait_until
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


def guide_backend(ports, bootstrap, es_url, dead_letters=False, encoding="otlp_proto"):
    # dead_letter_topic is ours, beyond the guide: only for the garbage records.
    dlq = '    dead_letter_topic: dlq\n' if dead_letters else ""
    return f"""
receivers:
  kafka:
    brokers: ["{bootstrap}"]
{dlq}    logs:
      topics: ["otel-otlp"]
      encoding: {encoding}
    metrics:
      topics: ["otel-otlp"]
      encoding: {encoding}
    traces:
      topics: ["otel-otlp"]
      encoding: {encoding}
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


def assigned(*backends):
    """Together the backends consume every partition of the topic, each some and none twice (a
    backend's lag series appear once its partitions are assigned); the guide's backend starts at
    the latest offset, so nothing may be written before that."""
    owned = [{k for k in b.metrics() if k.startswith("otelcol_kafka_receiver_offset_lag{") and TOPIC in k} for b in backends]
    return all(owned) and sum(map(len, owned)) == len(set().union(*owned)) == 4


def telemetrygen(*args):
    result = subprocess.run([str(BINARY), "telemetrygen", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def check(es_url, index, expect):
    """telemetrygen's count of what arrived (it exits non-zero while anything is missing)."""
    result = subprocess.run([str(BINARY), "telemetrygen", "check", "--elasticsearch", es_url, "--index", index, "--expect", str(expect)],
                            capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def headerless_records():
    """One request of each signal as a producer without the signal header writes them."""
    span = Span(trace_id=os.urandom(16), span_id=os.urandom(8), name="headerless-span", start_time_unix_nano=1_700_000_000_000_000_000,
                end_time_unix_nano=1_700_000_000_100_000_000)
    traces = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])
    # Now, not a fixed time: a time-series data stream refuses points outside its time window.
    point = NumberDataPoint(time_unix_nano=time.time_ns(), as_int=42,
                            attributes=[KeyValue(key="source", value=AnyValue(string_value="headerless"))])
    metrics = ExportMetricsServiceRequest(resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[
        Metric(name="headerless.gauge", gauge=Gauge(data_points=[point]))])])])
    record = LogRecord(time_unix_nano=1_700_000_000_000_000_000, body=AnyValue(string_value="headerless-log"))
    logs = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[record])])])
    return [traces.SerializeToString(), metrics.SerializeToString(), logs.SerializeToString()]


def headerless_json_records():
    """One request of each signal in OTLP/JSON, as a producer without the signal header writes them."""
    span = {"traceId": os.urandom(16).hex(), "spanId": os.urandom(8).hex(), "name": "headerless-span",
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000"}
    point = {"timeUnixNano": str(time.time_ns()), "asInt": "42", "attributes": [{"key": "source", "value": {"stringValue": "headerless"}}]}
    record = {"timeUnixNano": "1700000000000000000", "body": {"stringValue": "headerless-log"}}
    return [json.dumps(request).encode() for request in (
        {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]},
        {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "headerless.gauge", "gauge": {"dataPoints": [point]}}]}]}]},
        {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]})]


def headerless_arrived(osmem):
    names = {source.get("name") for _, _, source in osmem.documents("traces-*")}
    logs = any(s.get("body", {}).get("text") == "headerless-log" or s.get("body") == "headerless-log" for _, _, s in osmem.documents("logs-*"))
    metrics = any("headerless.gauge" in json.dumps(s) for _, _, s in osmem.documents("metrics-*"))
    return "headerless-span" in names and logs and metrics


def test_the_guides_one_topic_configs_deliver_every_signal_exactly_once(tmp_path, kafka, osmem):
    backends = [collector(tmp_path, f"backend-{name}", guide_backend, kafka.bootstrap, osmem.url, True) for name in "ab"]
    edge = collector(tmp_path, "edge", guide_edge, kafka.bootstrap)
    try:
        for backend in backends:
            assert "carries logs, metrics, traces" in backend.log()
        wait_until(lambda: assigned(*backends), timeout=90, what="the partitions shared by the two backends")
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
        wait_until(lambda: headerless_arrived(osmem), timeout=60, what="the headerless records of each signal")
        dead = consume_all(kafka.bootstrap, "dlq", 3, lambda v: 1, timeout=60)
        assert [r.value() for r in dead] == [b"\xff\xfe not an OTLP request"] * 3
    finally:
        edge.stop()
        for backend in backends:
            backend.stop()


@pytest.mark.parametrize("rotel_format,encoding", [("protobuf", "otlp_proto"), ("json", "otlp_json")])
def test_rotels_kafka_exporter_and_a_headerless_producer_share_the_topic(tmp_path, kafka, osmem, rotel_format, encoding):
    """rotel (a Rust collector) writes all three signals to the one topic, without the signal header,
    and a confluent-kafka producer adds headerless records of each signal in the same encoding: the
    guide's backend (its encoding set to match, for JSON) routes every record by its content."""
    backend = collector(tmp_path, "backend", guide_backend, kafka.bootstrap, osmem.url, False, encoding)
    rotel_grpc = free_port()
    rotel = subprocess.Popen([str(rotel_agent()), "start", "--otlp-grpc-endpoint", f"127.0.0.1:{rotel_grpc}",
                              "--otlp-http-endpoint", f"127.0.0.1:{free_port()}", "--exporter", "kafka",
                              "--kafka-exporter-brokers", kafka.bootstrap, "--kafka-exporter-format", rotel_format,
                              "--kafka-exporter-traces-topic", TOPIC, "--kafka-exporter-metrics-topic", TOPIC,
                              "--kafka-exporter-logs-topic", TOPIC], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: assigned(backend), timeout=60, what="the backend's partitions")
        grpc = f"127.0.0.1:{rotel_grpc}"
        telemetrygen("traces", "--otlp-endpoint", grpc, "--traces", "200", "--child-spans", "1", "--batch-size", "50")
        telemetrygen("metrics", "--otlp-endpoint", grpc, "--metrics", "300", "--batch-size", "50")
        telemetrygen("logs", "--otlp-endpoint", grpc, "--logs", "300", "--batch-size", "50")
        producer = Producer({"bootstrap.servers": kafka.bootstrap})
        for value in headerless_records() if encoding == "otlp_proto" else headerless_json_records():
            producer.produce(TOPIC, value)
        assert producer.flush(30) == 0
        for index, expect in (("traces-*", 400), ("metrics-*", 300), ("logs-*", 300)):
            wait_until(lambda: "missing 0," in check(osmem.url, index, expect), timeout=120, what=f"{expect} items in {index}")
            assert "missing 0, duplicates 0" in check(osmem.url, index, expect), check(osmem.url, index, expect)
        wait_until(lambda: headerless_arrived(osmem), timeout=60, what="the headerless records of each signal")
        records = consume_all(kafka.bootstrap, TOPIC, 10_000, lambda v: 1, timeout=10)
        assert not any(dict(r.headers() or []).get("otelcol.signal") for r in records), "rotel is expected to write no signal header"
        assert sum(v for k, v in backend.metrics().items() if k.startswith("otelcol_dropped_items_total")) == 0
    finally:
        rotel.terminate()
        rotel.wait(timeout=10)
        backend.stop()
