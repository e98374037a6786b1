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
