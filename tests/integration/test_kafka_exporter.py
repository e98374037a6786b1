"""The edge tier: OTLP in, Kafka out. Records are read back with independent clients (kcat and
confluent-kafka) and decoded with opentelemetry-proto."""
import json
import os

import grpc
import pytest
import requests
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import service_section
from kafka_support import KafkaDev, consume_all, kcat


@pytest.fixture
def kafka():
    broker = KafkaDev(partitions=4)
    yield broker
    broker.stop()


def edge_config(ports, bootstrap, exporter_extra=""):
    return f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{ports['grpc']}
      http:
        endpoint: 127.0.0.1:{ports['http']}
processors:
  batch:
    send_batch_size: 1000
    timeout: 20ms
exporters:
  kafka:
    brokers: [{bootstrap}]
    timeout: 3s
{exporter_extra}
""" + service_section(ports, f"""    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
""")


def spans_of(value: bytes):
    request = ExportTraceServiceRequest()
    request.ParseFromString(value)
    return [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]


def make_traces(traces=40, children=4):
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "edge-test"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("edge")
    for t in range(traces):
        with tracer.start_as_current_span(f"root-{t}"):
            for c in range(children):
                with tracer.start_as_current_span(f"child-{t}-{c}", attributes={"n": c}):
                    pass
    provider.shutdown()
    return memory.get_finished_spans()


def test_traces_partitioned_by_trace_id_are_whole_and_keyed(make_collector, ports, kafka):
    make_collector(config=edge_config(ports, kafka.bootstrap, "    partition_traces_by_id: true"))
    spans = make_traces()
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
    # Several requests, so traces are spread over several batches.
    for i in range(0, len(spans), 37):
        assert exporter.export(spans[i:i + 37]).name == "SUCCESS"
    exporter.shutdown()
    # The OK above means Kafka has every record: read them back with confluent-kafka.
    records = consume_all(kafka.bootstrap, "otlp_spans", len(spans), lambda v: len(spans_of(v)))
    seen = {}
    partition_of_trace = {}
    for record in records:
        decoded = spans_of(record.value())
        trace_ids = {s.trace_id.hex() for s in decoded}
        assert len(trace_ids) == 1, "a record holds exactly one trace"
        trace_id = trace_ids.pop()
        assert record.key().decode() == trace_id
        assert partition_of_trace.setdefault(trace_id, record.partition()) == record.partition()
        for s in decoded:
            assert s.span_id.hex() not in seen, "duplicate span"
            seen[s.span_id.hex()] = s
    sent = {format(s.context.span_id, "016x"): s for s in spans}
    assert set(seen) == set(sent)
    for span_id, span in sent.items():
        assert seen[span_id].name == span.name
        assert seen[span_id].trace_id.hex() == format(span.context.trace_id, "032x")
    # kcat, a second independent reader, sees the same keys and partitions.
    lines = kcat(kafka.bootstrap, "otlp_spans", "%k\t%p\n")
    assert len(lines) == len(records)
    assert {tuple(l.split("\t")) for l in lines} == {(r.key().decode(), str(r.partition())) for r in records}
    # The partition is the Go collector's (Sarama FNV-1a) choice for the key.
    for trace_id, partition in partition_of_trace.items():
        assert partition == sarama_partition(trace_id.encode(), 4)


def sarama_partition(key: bytes, partitions: int) -> int:
    h = 2166136261
    for b in key:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    signed = h - (1 << 32) if h >= 1 << 31 else h
    p = abs(signed) % partitions if signed < 0 else signed % partitions
    return p


def test_oversize_batch_is_split_not_dropped(make_collector, ports, kafka):
    limit = 20_000
    make_collector(config=edge_config(ports, kafka.bootstrap, f"    producer:\n      max_message_bytes: {limit}"))
    spans = [Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=f"s{i}",
                  attributes=[KeyValue(key="pad", value=AnyValue(string_value="x" * 500))]) for i in range(120)]
    body = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()
    assert len(body) > 3 * limit
    response = requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=body,
                             headers={"Content-Type": "application/x-protobuf"}, timeout=30)
    assert response.status_code == 200
    records = consume_all(kafka.bootstrap, "otlp_spans", 120, lambda v: len(spans_of(v)))
    assert len(records) >= 3
    assert all(len(r.value()) <= limit for r in records)
    names = sorted(s.name for r in records for s in spans_of(r.value()))
    assert names == sorted(f"s{i}" for i in range(120))


def test_otlp_json_logs_follow_the_spec(make_collector, ports, kafka):
    make_collector(config=edge_config(ports, kafka.bootstrap, "    logs:\n      encoding: otlp_json\n    include_metadata_keys: [tenant]")
                   .replace("      http:\n", "      http:\n        include_metadata: true\n"))
    trace_id, span_id = os.urandom(16), os.urandom(8)
    request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[
        LogRecord(time_unix_nano=1_700_000_000_123_456_789, severity_number=17, body=AnyValue(string_value="boom"),
                  trace_id=trace_id, span_id=span_id,
                  attributes=[KeyValue(key="count", value=AnyValue(int_value=9_007_199_254_740_993))])])])])
    response = requests.post(f"http://127.0.0.1:{ports['http']}/v1/logs", data=request.SerializeToString(),
                             headers={"Content-Type": "application/x-protobuf", "Tenant": "acme"}, timeout=30)
    assert response.status_code == 200
    records = consume_all(kafka.bootstrap, "otlp_logs", 1, lambda v: 1)
    assert len(records) == 1
    assert records[0].headers() == [("tenant", b"acme")]
    document = json.loads(records[0].value())
    record = document["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert record["traceId"] == trace_id.hex()
    assert record["spanId"] == span_id.hex()
    assert record["severityNumber"] == 17
    assert record["timeUnixNano"] == "1700000000123456789"
    assert record["attributes"][0]["value"]["intValue"] == "9007199254740993"
    assert record["body"] == {"stringValue": "boom"}


def test_grpc_metadata_becomes_record_headers(make_collector, ports, kafka):
    make_collector(config=edge_config(ports, kafka.bootstrap, "    include_metadata_keys: [tenant]")
                   .replace("      grpc:\n", "      grpc:\n        include_metadata: true\n"))
    body = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
        Span(trace_id=os.urandom(16), span_id=os.urandom(8), name="from-grpc")])])]).SerializeToString()
    with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
        export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                     request_serializer=lambda b: b, response_deserializer=lambda b: b)
        assert export(body, metadata=(("tenant", "acme"),), timeout=30) == b""
    records = consume_all(kafka.bootstrap, "otlp_spans", 1, lambda v: len(spans_of(v)))
    assert [s.name for r in records for s in spans_of(r.value())] == ["from-grpc"]
    assert records[0].headers() == [("tenant", b"acme")]


def test_broker_down_answers_retry_later(make_collector, ports, kafka):
    """Without a sending queue or retries, the client hears Kafka's failure itself."""
    collector = make_collector(config=edge_config(ports, kafka.bootstrap, "    sending_queue:\n      enabled: false\n    retry_on_failure:\n      enabled: false"))
    body = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
        Span(trace_id=os.urandom(16), span_id=os.urandom(8), name="lost?")])])]).SerializeToString()
    url = f"http://127.0.0.1:{ports['http']}/v1/traces"
    assert requests.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=30).status_code == 200
    kafka.stop()
    response = requests.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=30)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    channel = grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}")
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                 request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as failure:
        export(body, timeout=30)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    channel.close()
    values = collector.metrics()
    assert values['otelcol_exporter_send_failed_spans_total{exporter="kafka"}'] == 2
    assert values['otelcol_receiver_refused_spans_total{receiver="otlp",transport="http"}'] == 1


def test_broker_outage_during_load_loses_nothing(make_collector, ports, kafka):
    """While the brokers are down, clients are told to retry; telemetrygen retries, and once the
    brokers are back every span is in Kafka exactly once, with memory bounded meanwhile."""
    import subprocess

    from conftest import BINARY, wait_until
    collector = make_collector(config=edge_config(ports, kafka.bootstrap))
    load = subprocess.Popen([str(BINARY), "telemetrygen", "traces", "--otlp-endpoint", f"127.0.0.1:{ports['grpc']}",
                             "--workers", "2", "--traces", "1500", "--child-spans", "1", "--batch-size", "50", "--rate", "500"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: collector.metrics().get('otelcol_exporter_sent_spans_total{exporter="kafka"}', 0) > 500, what="load flowing")
    kafka.set_brokers(up=False)
    wait_until(lambda: collector.metrics().get('otelcol_exporter_send_failed_spans_total{exporter="kafka"}', 0) > 0,
               what="sends failing while the brokers are down")
    kafka.set_brokers(up=True)
    out, err = load.communicate(timeout=240)
    assert load.returncode == 0, err
    assert "0 failed" in out and "retries" in out
    total = 2 * 1500 * 2
    records = consume_all(kafka.bootstrap, "otlp_spans", total, lambda v: len(spans_of(v)), timeout=60)
    seqs = [a.value.int_value for r in records for s in spans_of(r.value()) for a in s.attributes if a.key == "telemetrygen.seq"]
    assert len(seqs) == total, f"{len(seqs) - len(set(seqs))} duplicates, {total - len(set(seqs))} missing"
    assert sorted(seqs) == list(range(total))
    # librdkafka's statistics (every 10 s) surface as gauges.
    wait_until(lambda: collector.metrics().get('otelcol_kafka_producer_transmitted_messages{exporter="kafka"}', 0) > 0,
               timeout=30, what="librdkafka statistics")
    status = open(f"/proc/{collector.process.pid}/status").read()
    peak_mib = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]) / 1024
    assert peak_mib < 256


def murmur2_partition(key: bytes, partitions: int) -> int:
    """The Java client's choice for a key, by kafka-python's murmur2 (an independent port)."""
    from kafka.partitioner.default import murmur2
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@pytest.mark.parametrize("partitioner", ["sticky_key: {hasher: murmur2}", "round_robin: {}"])
def test_record_partitioner(make_collector, ports, kafka, partitioner):
    make_collector(config=edge_config(ports, kafka.bootstrap, f"    partition_traces_by_id: true\n    record_partitioner:\n      {partitioner}"))
    spans = make_traces(traces=40, children=1)
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
    assert exporter.export(spans).name == "SUCCESS"
    exporter.shutdown()
    records = consume_all(kafka.bootstrap, "otlp_spans", len(spans), lambda v: len(spans_of(v)))
    assert sum(len(spans_of(r.value())) for r in records) == len(spans)
    assert len(records) == 40
    if "murmur2" in partitioner:
        for record in records:
            assert record.partition() == murmur2_partition(record.key(), 4)
        assert any(r.partition() != sarama_partition(r.key(), 4) for r in records), "murmur2 and Sarama agreed on every key"
    else:
        # Keys are ignored: the 40 records go to the 4 partitions in turn.
        counts = [sum(1 for r in records if r.partition() == p) for p in range(4)]
        assert counts == [10, 10, 10, 10]
