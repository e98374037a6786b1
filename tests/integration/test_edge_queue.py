"""The edge's sending queue during a Kafka outage, with a real application SDK in front: the
OpenTelemetry Python SDK with its default BatchSpanProcessor and OTLP/gRPC exporter sends at a
steady rate while every broker is down for 40 s. Kafka is read back with confluent-kafka."""
import os
import signal
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

from conftest import BINARY, Collector, new_ports, service_section, wait_until
from kafka_support import KafkaDev, consume_all
from test_kafka_exporter import spans_of

RATE = 200          # spans per second, as in the measurement the issue reports
OUTAGE = (10, 50)   # seconds after the start during which every broker is down
DURATION = 60


@pytest.fixture
def kafka():
    broker = KafkaDev(partitions=4, topics=("otlp_spans",))
    yield broker
    broker.stop()


def edge_config(ports, bootstrap, storage_dir=None, queue=""):
    """The guide's edge (OTLP in, batch, kafka out, Go defaults), optionally with a durable queue."""
    extensions, storage = "", ""
    if storage_dir:
        extensions = f"  file_storage:\n    directory: {storage_dir}\n    create_directory: true\n"
        storage = "    sending_queue:\n      storage: file_storage\n"
    config = f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{ports['grpc']}
processors:
  batch:
exporters:
  kafka:
    brokers: [{bootstrap}]
{storage}{queue}
""" + service_section(ports, """    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
""")
    if storage_dir:
        config = config.replace("extensions:\n", "extensions:\n" + extensions, 1).replace(
            "extensions: [health_check]", "extensions: [health_check, file_storage]")
    return config


class RecordingExporter(OTLPSpanExporter):
    """The SDK's own OTLP/gRPC exporter, remembering which spans it was told OK for."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ok, self.failed = [], []

    def export(self, spans):
        result = super().export(spans)
        seqs = [span.attributes["seq"] for span in spans]
        (self.ok if result == SpanExportResult.SUCCESS else self.failed).extend(seqs)
        return result


def run_sdk(ports, events):
    """Sends RATE spans/s for DURATION s through the SDK's default batch processor; `events` maps
    a second to a callable run then (outage start and end, a crash). Returns the exporter."""
    exporter = RecordingExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
    provider = TracerProvider(resource=Resource.create({"service.name": "outage-test"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("load")
    start = time.monotonic()
    pending = sorted(events.items())
    for seq in range(RATE * DURATION):
        # Pacing the load, not waiting for the system under test.
        delay = start + seq / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        while pending and time.monotonic() - start >= pending[0][0]:
            pending.pop(0)[1]()
        with tracer.start_as_current_span("work", attributes={"seq": seq}):
            pass
    for _, action in pending:
        action()
    provider.shutdown()
    return exporter


def seqs_in_kafka(bootstrap, expected, timeout=150):
    records = consume_all(bootstrap, "otlp_spans", expected, lambda v: len(spans_of(v)), timeout=timeout)
    return [a.value.int_value for r in records for s in spans_of(r.value()) for a in s.attributes if a.key == "seq"]


def assert_all_delivered(seqs, told_ok, report):
    missing = set(told_ok) - set(seqs)
    duplicates = len(seqs) - len(set(seqs))
    text = f"{len(set(seqs))} distinct spans in Kafka, {duplicates} duplicates, {len(missing)} acknowledged but missing"
    print(text)
    report(text)
    assert not missing, f"{len(missing)} spans the SDK was told OK for are not in Kafka"


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "file_storage"])
def test_sdk_loses_nothing_through_a_40s_broker_outage(make_collector, ports, kafka, tmp_path, durable, record_property):
    collector = make_collector(config=edge_config(ports, kafka.bootstrap, tmp_path / "queue" if durable else None))
    observed = {}

    def outage_begins():
        kafka.set_brokers(up=False)

    def during_outage():
        metrics = collector.metrics()
        observed["queued"] = metrics.get('otelcol_exporter_queue_size{exporter="kafka",data_type="traces"}', 0)
        observed["disk"] = metrics.get('otelcol_exporter_queue_disk_bytes{exporter="kafka",data_type="traces"}', 0)
        observed["age"] = metrics.get('otelcol_exporter_queue_oldest_item_age_seconds{exporter="kafka",data_type="traces"}', 0)

    exporter = run_sdk(ports, {OUTAGE[0]: outage_begins, OUTAGE[1] - 2: during_outage, OUTAGE[1]: lambda: kafka.set_brokers(up=True)})
    total = RATE * DURATION
    assert exporter.failed == [], f"the SDK was refused {len(exporter.failed)} spans"
    assert len(exporter.ok) == total, "the SDK's own queue dropped spans"
    seqs = seqs_in_kafka(kafka.bootstrap, total)
    assert_all_delivered(seqs, exporter.ok, lambda text: record_property("delivery", text))
    assert set(seqs) == set(range(total))
    # The queue held the outage's data, and said so.
    assert observed["queued"] > 0 and observed["age"] > 10
    if durable:
        assert observed["disk"] > 0
    metrics = collector.metrics()
    assert not any(k.startswith("otelcol_dropped_items_total") for k in metrics)
    wait_until(lambda: "sending queue for traces has drained" in collector.log(), what="the drained log line")
    assert "sending queue for traces is filling" in collector.log()
    assert metrics['otelcol_exporter_queue_capacity{exporter="kafka",data_type="traces"}'] == 1000


def test_file_storage_edge_killed_during_the_outage_delivers_everything_acknowledged(ports, kafka, tmp_path, record_property):
    collector = Collector(tmp_path, edge_config(ports, kafka.bootstrap, tmp_path / "queue"), **ports).start()
    restarted = []

    def crash_and_restart():
        collector.process.send_signal(signal.SIGKILL)
        collector.process.wait()
        restarted.append(collector.start())

    try:
        exporter = run_sdk(ports, {5: lambda: kafka.set_brokers(up=False), 20: crash_and_restart,
                                   45: lambda: kafka.set_brokers(up=True)})
        assert restarted, "the edge was not restarted"
        seqs = seqs_in_kafka(kafka.bootstrap, len(set(exporter.ok)))
        assert_all_delivered(seqs, exporter.ok, lambda text: record_property("delivery", text))
        assert "delivered again" in collector.log()
    finally:
        collector.stop()


def span_request(name, count):
    spans = [Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=f"{name}-{i}") for i in range(count)]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()


def grpc_export(ports):
    channel = grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}")
    return channel, channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                        request_serializer=lambda b: b, response_deserializer=lambda b: b)


def retry_until_taken(export, request, what, timeout=60):
    """An SDK's retries, a second apart, until the collector takes the request; every refusal
    must be UNAVAILABLE (retryable)."""
    def attempt():
        try:
            export(request, timeout=10)
            return True
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
            return False
    wait_until(attempt, timeout=timeout, interval=1, what=what)


def test_a_full_queue_refuses_at_once_and_client_retries_succeed_later(make_collector, ports, kafka):
    config = edge_config(ports, kafka.bootstrap, queue="    sending_queue:\n      queue_size: 3\n      num_consumers: 1\n")
    collector = make_collector(config=config.replace("processors: [batch]", "processors: []"))
    kafka.set_brokers(up=False)
    channel, export = grpc_export(ports)
    for i in range(3):
        export(span_request(f"held{i}", 10), timeout=10)
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as refusal:
        export(span_request("refused", 10), timeout=10)
    waited = time.monotonic() - started
    assert refusal.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "sending queue is full" in refusal.value.details()
    assert waited < 5, f"the refusal took {waited:.1f}s of the client's 10s deadline"
    assert collector.metrics()['otelcol_exporter_enqueue_failed_spans_total{exporter="kafka"}'] == 10
    kafka.set_brokers(up=True)
    # The client retries with backoff, as an SDK does, until the queue has room again.
    retry_until_taken(export, span_request("refused", 10), "the client's retries to get through")
    channel.close()
    names = [s.name for r in consume_all(kafka.bootstrap, "otlp_spans", 40, lambda v: len(spans_of(v)), timeout=90)
             for s in spans_of(r.value())]
    assert sorted(set(names)) == sorted([f"held{i}-{j}" for i in range(3) for j in range(10)] + [f"refused-{j}" for j in range(10)])


def test_a_blocked_request_ends_at_the_clients_deadline(make_collector, ports, kafka):
    queue = "    sending_queue:\n      queue_size: 1\n      num_consumers: 1\n      block_on_overflow: true\n"
    config = edge_config(ports, kafka.bootstrap, queue=queue).replace("processors: [batch]", "processors: []")
    make_collector(config=config)
    kafka.set_brokers(up=False)
    channel, export = grpc_export(ports)
    export(span_request("held", 1), timeout=10)
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as failure:
        export(span_request("blocked", 1), timeout=2)
    assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 5
    channel.close()
    kafka.set_brokers(up=True)


def queue_segments(storage_dir):
    folder = Path(storage_dir) / "exporter_kafka__traces"
    return sorted(folder.glob("segment-*.log"))


def test_a_torn_queue_tail_is_cut_counted_and_the_rest_delivered(ports, kafka, tmp_path):
    storage = tmp_path / "queue"
    config = edge_config(ports, kafka.bootstrap, storage).replace("processors: [batch]", "processors: []")
    collector = Collector(tmp_path, config, **ports).start()
    kafka.set_brokers(up=False)
    channel, export = grpc_export(ports)
    for i in range(5):
        export(span_request(f"r{i}", 4), timeout=10)
    channel.close()
    collector.process.send_signal(signal.SIGKILL)
    collector.process.wait()
    # The last record loses its final bytes, as a write cut short by a crash would.
    segment = queue_segments(storage)[-1]
    data = segment.read_bytes()
    segment.write_bytes(data[:-7])
    kafka.set_brokers(up=True)
    collector.start()
    try:
        names = [s.name for r in consume_all(kafka.bootstrap, "otlp_spans", 16, lambda v: len(spans_of(v)), timeout=90)
                 for s in spans_of(r.value())]
        assert sorted(names) == sorted(f"r{i}-{j}" for i in range(4) for j in range(4))
        metrics = collector.metrics()
        assert metrics['otelcol_dropped_items_total{component="kafka",signal="traces",reason="corrupt_queue_record"}'] == 4
        assert "torn record" in collector.log()
    finally:
        collector.stop()


def test_a_second_collector_on_the_same_queue_directory_is_refused(make_collector, ports, kafka, tmp_path):
    storage = tmp_path / "queue"
    make_collector(config=edge_config(ports, kafka.bootstrap, storage))
    other_dir = tmp_path / "second"
    other_dir.mkdir()
    config = other_dir / "config.yaml"
    # A port free_port found may be taken by a client's outgoing connection before the second
    # collector binds it; that start fails before the queue is opened, so it is tried again.
    for _ in range(3):
        config.write_text(edge_config(new_ports(), kafka.bootstrap, storage))
        result = subprocess.run([str(BINARY), "--config", str(config)], capture_output=True, text=True, timeout=60)
        if "Address already in use" not in result.stderr:
            break
    assert result.returncode != 0
    assert f"{storage}/exporter_kafka__traces" in result.stderr
    assert "another process holds" in result.stderr


@pytest.fixture
def open_folder():
    """A folder other users can reach (pytest's tmp_path lies under one closed to them),
    removed afterwards."""
    place = Path(tempfile.mkdtemp(prefix="otelcol-ro-"))
    place.chmod(0o755)
    yield place
    shutil.rmtree(place, ignore_errors=True)


def test_an_unwritable_storage_directory_is_reported_with_its_path(ports, kafka, open_folder):
    # Run as an unprivileged user, for whom a root-owned directory is read-only.
    place = open_folder
    storage = place / "queue"
    storage.mkdir(mode=0o755)
    config = place / "config.yaml"
    config.write_text(edge_config(ports, kafka.bootstrap, storage).replace("    create_directory: true\n", ""))
    config.chmod(0o644)
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(BINARY), "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"failed to start extension file_storage: extensions.file_storage.directory: {storage} is not writable: permission denied" in result.stderr
    missing = place / "absent"
    config.write_text(edge_config(ports, kafka.bootstrap, missing).replace("    create_directory: true\n", ""))
    result = subprocess.run([str(BINARY), "validate", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"extensions.file_storage.directory: {missing} does not exist" in result.stderr


def big_request(name, pad=30_000):
    span = Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=name,
                attributes=[KeyValue(key="pad", value=AnyValue(string_value="x" * pad))])
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]).SerializeToString()


def test_a_full_disk_refuses_new_data_and_loses_nothing_acknowledged(ports, kafka, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(small)], capture_output=True).returncode != 0:
        pytest.skip("this machine cannot mount a small filesystem")
    collector = None
    try:
        queue = "      sizer: bytes\n      queue_size: 1000000000\n"
        config = edge_config(ports, kafka.bootstrap, small / "queue", queue=queue).replace("processors: [batch]", "processors: []")
        collector = Collector(tmp_path, config, **ports).start()
        kafka.set_brokers(up=False)
        channel, export = grpc_export(ports)
        accepted, refusal = [], None
        for i in range(200):
            try:
                export(big_request(f"fill-{i}"), timeout=10)
                accepted.append(f"fill-{i}")
            except grpc.RpcError as error:
                refusal = error
                break
        assert refusal is not None, "a 3 MB filesystem took 6 MB"
        assert refusal.code() == grpc.StatusCode.UNAVAILABLE
        assert "No space left on device" in refusal.details()
        assert len(accepted) > 20
        kafka.set_brokers(up=True)
        names = [s.name for r in consume_all(kafka.bootstrap, "otlp_spans", len(accepted), lambda v: len(spans_of(v)), timeout=120)
                 for s in spans_of(r.value())]
        assert set(accepted) <= set(names)
        # Once delivered, the space comes back: the client's retry is taken.
        retry_until_taken(export, big_request("after"), "the queue to take data again after draining")
        channel.close()
        assert not any(k.startswith("otelcol_dropped_items_total") for k in collector.metrics())
    finally:
        if collector:
            collector.stop()
        subprocess.run(["umount", str(small)])
