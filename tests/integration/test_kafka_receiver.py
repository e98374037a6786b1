"""The backend tier's kafka receiver, and the whole local two-tier pipeline in one process."""
import os
import subprocess
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

import pytest

from conftest import service_section, BINARY, Collector, ROOT, read_length_prefixed, wait_until
from kafka_support import KafkaDev

SEQ = "telemetrygen.seq"


@pytest.fixture
def kafka():
    broker = KafkaDev(partitions=3, topics=("otlp_spans", "otlp_metrics", "otlp_logs", "otlp_dead_letters"))
    yield broker
    broker.stop()


def backend_config(ports, bootstrap, out, group="backend", extra=""):
    return f"""
receivers:
  kafka:
    brokers: [{bootstrap}]
    group_id: {group}
    initial_offset: earliest
{extra}
    header_extraction:
      extract_headers: true
      headers: [tenant]
processors:
  batch:
    timeout: 50ms
exporters:
  file:
    path: {out}/traces.out
    format: proto
""" + service_section(ports, f"""    traces:
      receivers: [kafka]
      processors: [batch]
      exporters: [file]
""")


def request(first, count, service="interop"):
    spans = [Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=f"s{first + i}",
                  attributes=[KeyValue(key=SEQ, value=AnyValue(int_value=first + i))]) for i in range(count)]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service))]),
        scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()


def written(path):
    if not path.exists():
        return []
    # Read while the collector may be writing: a record not yet whole is left for the next look.
    return read_length_prefixed(path, ExportTraceServiceRequest, while_writing=True)


def seqs(messages):
    return sorted(a.value.int_value for m in messages for rs in m.resource_spans for ss in rs.scope_spans
                  for s in ss.spans for a in s.attributes if a.key == SEQ)


def test_records_from_another_producer_poison_skipped_offsets_committed(make_collector, ports, kafka, tmp_path):
    # Another client writes the records: confluent-kafka with bodies built by opentelemetry-proto,
    # with a garbage record and a wrong-encoding (JSON) record between good ones.
    producer = Producer({"bootstrap.servers": kafka.bootstrap})
    producer.produce("otlp_spans", request(0, 10), key=b"a", partition=0, headers=[("tenant", b"acme")])
    producer.produce("otlp_spans", b"\xff\xfe garbage \x00", partition=0)
    producer.produce("otlp_spans", b'{"resourceSpans": []}', partition=0)
    producer.produce("otlp_spans", request(10, 10), partition=0)
    producer.produce("otlp_spans", request(20, 5), partition=1)
    assert producer.flush(10) == 0

    collector = make_collector(config=backend_config(ports, kafka.bootstrap, tmp_path))
    out = tmp_path / "traces.out"
    wait_until(lambda: seqs(written(out)) == list(range(25)), what="all good records written")
    messages = written(out)
    tenants = {a.value.string_value for m in messages for rs in m.resource_spans for a in rs.resource.attributes
               if a.key == "kafka.header.tenant"}
    assert tenants == {"acme"}

    # Offsets are committed for every record, poison included: the group's lag reaches zero.
    def committed():
        consumer = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "backend"})
        offsets = consumer.committed([TopicPartition("otlp_spans", p) for p in range(3)], timeout=10)
        consumer.close()
        return [tp.offset for tp in offsets]
    wait_until(lambda: committed() == [4, 1, -1001], what="offsets committed")
    # Lag per partition, from librdkafka's statistics (every 5 s), reaches zero.
    lag = 'otelcol_kafka_receiver_offset_lag{receiver="kafka",topic="otlp_spans",partition="%d"}'
    wait_until(lambda: (lambda v: v.get(lag % 0) == 0 and v.get(lag % 1) == 0)(collector.metrics()), timeout=30, what="lag zero")
    assert collector.metrics()['otelcol_kafka_receiver_current_offset{receiver="kafka",topic="otlp_spans",partition="0"}'] == 4

    values = collector.metrics()
    assert values['otelcol_kafka_receiver_unmarshal_failed_spans_total{receiver="kafka"}'] == 2
    assert values['otelcol_dropped_items_total{component="kafka",signal="traces",reason="undecodable_kafka_record"}'] == 2
    assert values['otelcol_receiver_accepted_spans_total{receiver="kafka",transport="kafka"}'] == 25
    assert "skipping undecodable Kafka record otlp_spans/0@1" in collector.log()


def test_restart_resumes_from_committed_offsets_without_duplicates(make_collector, ports, kafka, tmp_path):
    producer = Producer({"bootstrap.servers": kafka.bootstrap})
    for i in range(10):
        producer.produce("otlp_spans", request(i * 10, 10), partition=i % 3)
    assert producer.flush(10) == 0
    config = backend_config(ports, kafka.bootstrap, tmp_path)
    first = make_collector(config=config)
    out = tmp_path / "traces.out"
    wait_until(lambda: len(seqs(written(out))) == 100, what="first 100 spans")
    first.stop()
    kept = out.read_bytes()
    for i in range(10, 20):
        producer.produce("otlp_spans", request(i * 10, 10), partition=i % 3)
    assert producer.flush(10) == 0
    # The file exporter truncates on start: keep the first run's output and append this one's.
    second = make_collector(config=config.replace("format: proto", "format: proto\n    append: true"))
    wait_until(lambda: len(seqs(read_all(kept, out))) >= 200, what="second 100 spans")
    second.stop()
    assert seqs(read_all(kept, out)) == list(range(200))


def read_all(kept: bytes, out):
    combined = out.parent / "combined.out"
    data = out.read_bytes()
    combined.write_bytes(data if data.startswith(kept) else kept + data)
    return read_length_prefixed(combined, ExportTraceServiceRequest)


def test_local_two_tier_pipeline_end_to_end(tmp_path, ports):
    """examples/local.yaml: telemetrygen → edge → embedded broker → backend → osmem-server."""
    from es_support import Osmem
    osmem = Osmem()
    env = dict(os.environ, OUT_DIR=str(tmp_path), OTLP_GRPC_PORT=str(ports["grpc"]), OTLP_HTTP_PORT=str(ports["http"]),
               HEALTH_PORT=str(ports["health"]), METRICS_PORT=str(ports["metrics"]), ELASTICSEARCH_ENDPOINT=osmem.url)
    log = open(tmp_path / "collector.log", "wb")
    collector = subprocess.Popen([str(BINARY), "--config", str(ROOT / "examples" / "local.yaml")], env=env,
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _healthy(ports), what="local pipeline up")
        for signal, flag, count in (("traces", "--traces", 300), ("logs", "--logs", 1000)):
            result = subprocess.run([str(BINARY), "telemetrygen", signal, "--otlp-endpoint", f"127.0.0.1:{ports['grpc']}",
                                     flag, str(count), "--workers", "2", "--batch-size", "50"], capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
        def clean(index, expect):
            result = subprocess.run([str(BINARY), "telemetrygen", "check", "--elasticsearch", osmem.url, "--index", index,
                                     "--expect", str(expect)], capture_output=True, text=True)
            return result.returncode == 0
        # 300 traces per worker × 2 workers × 2 spans each; 1000 log records × 2 workers.
        wait_until(lambda: clean("traces-*", 1200) and clean("logs-*", 2000), timeout=60, what="backend output complete")
    finally:
        collector.terminate()
        collector.wait(timeout=30)
        osmem.stop()


def _healthy(ports):
    import requests
    try:
        return requests.get(f"http://127.0.0.1:{ports['health']}/", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_two_backends_in_one_group_share_partitions_without_duplicates(tmp_path, kafka):
    """A second backend joins the group mid-stream: partitions move between members, and since a
    revoked partition's finished records are committed before it moves, nothing is written twice."""
    from conftest import Collector, new_ports

    producer = Producer({"bootstrap.servers": kafka.bootstrap})
    for i in range(30):
        producer.produce("otlp_spans", request(i * 10, 10), partition=i % 3)
    assert producer.flush(10) == 0
    backends = []
    try:
        for name in ("a", "b"):
            out = tmp_path / name
            out.mkdir()
            ports = new_ports()
            backends.append((Collector(out, backend_config(ports, kafka.bootstrap, out), **ports).start(), out / "traces.out"))
            if name == "a":
                wait_until(lambda: len(seqs(written(backends[0][1]))) >= 100, what="first backend consuming")
        for i in range(30, 60):
            producer.produce("otlp_spans", request(i * 10, 10), partition=i % 3)
        assert producer.flush(10) == 0
        everything = lambda: sorted(seqs(written(backends[0][1])) + seqs(written(backends[1][1])))
        wait_until(lambda: len(set(everything())) == 600, timeout=60, what="all records consumed by the group")
        assert everything() == list(range(600)), "duplicates across the two backends"
    finally:
        for collector, _ in backends:
            collector.stop()


def test_poison_records_go_to_the_dead_letter_topic_with_their_origin(make_collector, ports, kafka, tmp_path):
    producer = Producer({"bootstrap.servers": kafka.bootstrap})
    producer.produce("otlp_spans", request(0, 5), partition=0)
    producer.produce("otlp_spans", b"\x0a\x05trunc", key=b"k1", partition=0, headers=[("tenant", b"acme")])
    producer.produce("otlp_spans", request(5, 5), partition=0)
    assert producer.flush(10) == 0
    collector = make_collector(config=backend_config(ports, kafka.bootstrap, tmp_path, extra="    dead_letter_topic: otlp_dead_letters"))
    wait_until(lambda: seqs(written(tmp_path / "traces.out")) == list(range(10)), what="good records written")
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": f"dlq-{uuid.uuid4()}", "auto.offset.reset": "earliest"})
    consumer.subscribe(["otlp_dead_letters"])
    letters = []
    wait_until(lambda: letters.append(consumer.poll(0.5)) or any(m is not None and not m.error() for m in letters), what="dead letter")
    consumer.close()
    letter = next(m for m in letters if m is not None and not m.error())
    assert letter.value() == b"\x0a\x05trunc"
    assert letter.key() == b"k1"
    headers = dict(letter.headers())
    assert headers["tenant"] == b"acme"
    assert headers["otelcol.dlq.source.topic"] == b"otlp_spans"
    assert headers["otelcol.dlq.source.partition"] == b"0"
    assert headers["otelcol.dlq.source.offset"] == b"1"
    assert headers["otelcol.dlq.reason"] == b"undecodable_kafka_record"
    assert b"invalid protobuf" in headers["otelcol.dlq.error"]
    values = collector.metrics()
    assert values['otelcol_kafka_receiver_dead_lettered_records_total{receiver="kafka",reason="undecodable_kafka_record"}'] == 1
    assert not any(k.startswith("otelcol_dropped_items_total") and v > 0 for k, v in values.items())


class ServiceGate:
    """An OTLP/HTTP endpoint that refuses (503) every request of a blocked service.name until
    opened, and records the sequence numbers it accepted and the records it refused."""

    def __init__(self, blocked):
        import gzip
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        gate = self
        self.blocked, self.accepted, self.refused_records = blocked, [], set()
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                message = ExportTraceServiceRequest()
                message.ParseFromString(body)
                services = {a.value.string_value for rs in message.resource_spans for a in rs.resource.attributes if a.key == "service.name"}
                with gate.lock:
                    refuse = gate.blocked in services
                    if refuse:
                        gate.refused_records.add(min(seqs([message])))
                    else:
                        gate.accepted += seqs([message])
                self.send_response(503 if refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def test_a_stuck_partition_does_not_hold_back_the_others(make_collector, ports, kafka):
    """Partition 0's records are refused (retryably) by the destination: the other partitions are
    delivered meanwhile, and partition 0 has at most 64 records in flight (it is paused)."""
    gate = ServiceGate(blocked="slow")
    try:
        producer = Producer({"bootstrap.servers": kafka.bootstrap})
        for i in range(200):
            producer.produce("otlp_spans", request(10_000 + i, 1, service="slow"), partition=0)
        for i in range(300):
            producer.produce("otlp_spans", request(i, 1), partition=1 + i % 2)
        assert producer.flush(10) == 0
        collector = make_collector(config=f"""
receivers:
  kafka:
    brokers: [{kafka.bootstrap}]
    group_id: gate
    initial_offset: earliest
    error_backoff:
      initial_interval: 20ms
      max_interval: 100ms
exporters:
  otlphttp:
    endpoint: {gate.url}
    retry_on_failure:
      enabled: false
""" + service_section(ports, """    traces:
      receivers: [kafka]
      exporters: [otlphttp]
"""))
        wait_until(lambda: len(gate.accepted) == 300, timeout=60, what="the other partitions delivered")
        assert sorted(gate.accepted) == list(range(300))
        wait_until(lambda: len(gate.refused_records) > 0, what="partition 0 retrying")
        assert len(gate.refused_records) <= 64, "more than the per-partition bound of records in flight"
        gate.blocked = "nobody"
        wait_until(lambda: len(gate.accepted) == 500, timeout=60, what="partition 0 delivered after it opened")
        assert sorted(gate.accepted) == list(range(300)) + list(range(10_000, 10_200))
        lag = 'otelcol_kafka_receiver_offset_lag{receiver="kafka",topic="otlp_spans",partition="0"}'
        wait_until(lambda: collector.metrics().get(lag) == 0, timeout=20, what="partition 0 lag back to zero")
    finally:
        gate.stop()



def padded(seq):
    """One span of about 100 kB: the embedded broker keeps about 5 MB per partition."""
    span = Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=f"s{seq}",
                attributes=[KeyValue(key=SEQ, value=AnyValue(int_value=seq)), KeyValue(key="pad", value=AnyValue(string_value="x" * 100_000))])
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]).SerializeToString()


def test_records_deleted_by_retention_before_the_backend_read_them_are_counted_and_logged(make_collector, ports, tmp_path):
    broker = KafkaDev(partitions=1, topics=("otlp_spans",))
    try:
        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
        for seq in range(10):
            producer.produce("otlp_spans", request(seq, 1))
        assert producer.flush(10) == 0
        out = tmp_path / "traces.out"
        backend = make_collector(config=backend_config(ports, broker.bootstrap, tmp_path))
        wait_until(lambda: seqs(written(out)) == list(range(10)), what="the first ten records")
        backend.stop()
        # While the backend is down, more than the broker keeps: the oldest unread records go.
        for seq in range(10, 130):
            producer.produce("otlp_spans", padded(seq))
            producer.poll(0)
        assert producer.flush(30) == 0
        reader = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "watermarks"})
        low, high = reader.get_watermark_offsets(TopicPartition("otlp_spans", 0), timeout=10)
        reader.close()
        assert high == 130 and low > 10, (low, high)
        # The file exporter starts its file afresh: the second run writes its own.
        second = tmp_path / "second"
        second.mkdir()
        again = Collector(second, backend_config(ports, broker.bootstrap, second), **ports).start()
        try:
            wait_until(lambda: len(seqs(written(second / "traces.out"))) == 130 - low, timeout=60, what="the records still retained")
            assert seqs(written(second / "traces.out")) == list(range(low, 130)), "each retained record exactly once"
            metrics = again.metrics()
            lost = low - 10
            assert metrics['otelcol_kafka_receiver_records_lost_total{receiver="kafka",topic="otlp_spans",partition="0"}'] == lost
            assert metrics['otelcol_dropped_items_total{component="kafka",signal="traces",reason="deleted_by_retention"}'] == lost
            assert f"{lost} records of otlp_spans/0 (offsets 10 to {low - 1}) were deleted by the topic's retention" in again.log()
        finally:
            again.stop()
    finally:
        broker.stop()


def test_lag_in_seconds_grows_while_the_destination_refuses_and_returns_to_zero(make_collector, ports, tmp_path):
    from conftest import collector_config, free_port
    broker = KafkaDev(partitions=1, topics=("otlp_spans",))
    sink_ports = {name: free_port() for name in ("grpc", "http", "health", "metrics")}
    sink = None
    try:
        config = f"""
receivers:
  kafka:
    brokers: [{broker.bootstrap}]
    group_id: lagging
    initial_offset: earliest
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:{sink_ports['http']}
    retry_on_failure:
      initial_interval: 200ms
      max_interval: 500ms
""" + service_section(ports, """    traces:
      receivers: [kafka]
      exporters: [otlphttp]
""")
        backend = make_collector(config=config)
        producer = Producer({"bootstrap.servers": broker.bootstrap})
        for seq in range(3):
            producer.produce("otlp_spans", request(seq, 1))
        assert producer.flush(10) == 0
        key = 'otelcol_kafka_receiver_lag_seconds{receiver="kafka",topic="otlp_spans",partition="0"}'
        first = wait_until(lambda: backend.metrics().get(key, 0) > 0 and backend.metrics()[key], timeout=30, what="a lag in seconds")
        wait_until(lambda: backend.metrics()[key] > first + 2, timeout=30, what="the lag to grow while the destination is down")
        # The destination comes up: the records are delivered and the lag returns to 0.
        sink_dir = tmp_path / "sink"
        sink_dir.mkdir()
        sink = Collector(sink_dir, collector_config(sink_ports, sink_dir, processors="[]"), **sink_ports).start()
        wait_until(lambda: seqs(written(sink_dir / "traces.out")) == [0, 1, 2], timeout=30, what="delivery after recovery")
        wait_until(lambda: backend.metrics()[key] == 0, timeout=30, what="the lag to return to 0")
    finally:
        if sink:
            sink.stop()
        broker.stop()
