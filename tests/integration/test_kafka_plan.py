"""`otelcol-swift kafka-plan` on a sample the file exporter wrote from an SDK's spans."""
import re
import subprocess

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

from conftest import BINARY, wait_until
from test_kafka_exporter import make_traces


def test_kafka_plan_measures_a_sample_and_shows_its_arithmetic(make_collector, ports, tmp_path):
    collector = make_collector(processors="[]")
    spans = make_traces(traces=20, children=4)
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
    assert exporter.export(spans).name == "SUCCESS"
    exporter.shutdown()
    collector.stop()
    sample = tmp_path / "traces.out"
    wait_until(lambda: sample.exists() and sample.stat().st_size > 0, what="the sample file")
    result = subprocess.run([str(BINARY), "kafka-plan", "--spans-per-second", "100000", "--outage", "2h", "--sample", str(sample),
                             "--compression", "gzip"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    measured = re.match(r"sample traces: (\d+) items in (\d+) B = (\d+) B per item; gzip makes (\d+) B", lines[0])
    assert measured, lines[0]
    items, size, per_item, compressed = map(int, measured.groups())
    assert items == len(spans) and per_item == round(size / items) and 0 < compressed < size
    assert lines[1].startswith("backends: items/s × (1 + outage / catch-up) = 100000 × (1 + 2h / 2h) = 200000 items/s to read")
    assert "retention.ms: 18000000" in result.stdout  # (2 h + 2 h) × 1.25 = 5 h
    assert re.search(r"^topic otlp_spans: partitions 3, retention.bytes \d+$", result.stdout, re.M)

    bad = subprocess.run([str(BINARY), "kafka-plan", "--spans-per-second", "1", "--sample", str(tmp_path / "absent")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "--sample: cannot read" in bad.stderr


def test_kafka_plan_measures_records_of_a_topic_and_takes_a_load_in_bytes(tmp_path):
    """The sample read from a topic the way the kafka exporter fills it, one request per record;
    the load given as uncompressed bytes per second becomes items by the measured item size."""
    from confluent_kafka import Producer
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
    from kafka_support import KafkaDev

    kafka = KafkaDev(partitions=2, topics=("otlp_spans",))
    try:
        producer = Producer({"bootstrap.servers": kafka.bootstrap})
        sizes = []
        for r in range(40):
            spans = [Span(trace_id=bytes([r]) * 16, span_id=bytes([i + 1]) * 8, name=f"GET /orders/{r}/{i}") for i in range(5)]
            value = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()
            sizes.append(len(value))
            producer.produce("otlp_spans", value, partition=r % 2)
        assert producer.flush(30) == 0
        result = subprocess.run([str(BINARY), "kafka-plan", "--span-bytes-per-second", "10MB", "--outage", "1h",
                                 "--sample-topic", "otlp_spans", "--bootstrap", kafka.bootstrap, "--compression", "none"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        per_item = round(sum(sizes) / 200)
        assert lines[0] == f"sample traces: 200 items in {sum(sizes)} B = {per_item} B per item; none makes {sum(sizes)} B of them (ratio 1.000)"
        assert lines[1] == f"otlp_spans items/s: 10.0 MB/s ÷ {per_item} B per item = {round(10_000_000 / per_item)} items/s"

        both = subprocess.run([str(BINARY), "kafka-plan", "--spans-per-second", "5", "--span-bytes-per-second", "1MB"],
                              capture_output=True, text=True, timeout=60)
        assert both.returncode != 0 and "--span-bytes-per-second: give the traces load once, as items or as bytes" in both.stderr
        no_brokers = subprocess.run([str(BINARY), "kafka-plan", "--spans-per-second", "5", "--sample-topic", "otlp_spans"],
                                    capture_output=True, text=True, timeout=60)
        assert no_brokers.returncode != 0 and "--sample-topic needs --bootstrap" in no_brokers.stderr
    finally:
        kafka.stop()
