"""The production shape in separate processes: telemetrygen → edge collector → Kafka-protocol
broker → two backend collectors in one consumer group → osmem-server."""
import signal
import subprocess

import pytest

from conftest import BINARY, Collector, new_ports, service_section, wait_until
from es_support import BulkProxy, es_exporter_config, seqs_in
from kafka_support import KafkaDev


@pytest.fixture
def kafka():
    broker = KafkaDev(partitions=4, topics=("otlp_logs",))
    yield broker
    broker.stop()


def edge(tmp_path, bootstrap):
    ports = new_ports()
    out = tmp_path / "edge"
    out.mkdir()
    config = f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{ports['grpc']}
processors:
  batch:
    send_batch_size: 100
    timeout: 20ms
exporters:
  kafka:
    brokers: [{bootstrap}]
""" + service_section(ports, """    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
""")
    return Collector(out, config, **ports).start()


def backend(tmp_path, name, bootstrap, es_url, ports=None):
    """A backend of the `es-writers` group. The group uses the eager `range` protocol: with
    cooperative-sticky, Debian's librdkafka 2.0.2 against the embedded broker now and then
    leaves the surviving member in its steady state while the group waits for it to rejoin
    (its commits fail with "Group rebalance in progress" for good, the restarted member is
    never assigned). test_kafka_subscription.py covers cooperative-sticky groups."""
    ports = ports or new_ports()
    out = tmp_path / name
    out.mkdir(exist_ok=True)
    config = f"""
receivers:
  kafka:
    brokers: [{bootstrap}]
    group_id: es-writers
    initial_offset: earliest
    group_rebalance_strategies: [range]
    error_backoff:
      initial_interval: 50ms
      max_interval: 500ms
processors:
  batch:
    timeout: 50ms
exporters:{es_exporter_config(es_url)}
""" + service_section(ports, """    logs:
      receivers: [kafka]
      processors: [batch]
      exporters: [elasticsearch]
""")
    return Collector(out, config, **ports).start()


def send_logs(edge_collector, count, rate):
    return subprocess.Popen([str(BINARY), "telemetrygen", "logs", "--otlp-endpoint", f"127.0.0.1:{edge_collector.ports['grpc']}",
                             "--logs", str(count), "--rate", str(rate), "--batch-size", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def lag_series(collector):
    return {k: v for k, v in collector.metrics().items() if k.startswith("otelcol_kafka_receiver_offset_lag{")}


def total_lag(collector):
    return sum(lag_series(collector).values())


def report(osmem, *collectors):
    """What the backends showed when a wait failed: documents written, lag and log tails."""
    parts = [f"documents: {osmem.count('logs-*')}"]
    for c in collectors:
        parts.append(f"--- {c.tmp.name}: lag {lag_series(c)}\n{c.log()[-3000:]}")
    return "\n".join(parts)


def test_kill_9_of_a_backend_loses_and_duplicates_nothing(tmp_path, kafka, osmem):
    total = 3000
    started = [edge(tmp_path, kafka.bootstrap)]
    try:
        a = backend(tmp_path, "a", kafka.bootstrap, osmem.url)
        b = backend(tmp_path, "b", kafka.bootstrap, osmem.url)
        started += [a, b]
        sender = send_logs(started[0], total, rate=1000)
        wait_until(lambda: osmem.count("logs-*") >= 600, timeout=60, what="documents flowing")
        a.stop(sig=signal.SIGKILL)
        restarted = backend(tmp_path, "a", kafka.bootstrap, osmem.url, ports=a.ports)
        started.append(restarted)
        output, _ = sender.communicate(timeout=120)
        assert sender.returncode == 0, output
        wait_until(lambda: osmem.count("logs-*") >= total, timeout=120, what=f"{total} documents",
                   detail=lambda: report(osmem, restarted, b))
        documents = osmem.documents("logs-*")
        assert len(documents) == total
        assert seqs_in(documents) == list(range(total)), "a sequence number is missing or duplicated"
        wait_until(lambda: total_lag(restarted) == 0 and total_lag(b) == 0, timeout=30, what="lag drained to zero",
                   detail=lambda: report(osmem, restarted, b))
    finally:
        for collector in started:
            collector.stop()


def test_an_elasticsearch_outage_builds_lag_that_drains_after_recovery(tmp_path, kafka, osmem):
    proxy = BulkProxy(osmem.url)
    started = [edge(tmp_path, kafka.bootstrap)]
    try:
        proxy.down = True
        writer = backend(tmp_path, "a", kafka.bootstrap, proxy.url)
        started.append(writer)
        sender = send_logs(started[0], 1000, rate=0)
        output, _ = sender.communicate(timeout=60)
        assert sender.returncode == 0, output
        # Nothing is committed while the exporter fails: the backlog shows as lag.
        wait_until(lambda: total_lag(writer) > 0, timeout=30, what="lag during the outage")
        assert osmem.count("logs-*") == 0
        proxy.down = False
        wait_until(lambda: osmem.count("logs-*") >= 1000, timeout=60, what="backlog written after recovery",
                   detail=lambda: report(osmem, writer))
        wait_until(lambda: total_lag(writer) == 0, timeout=30, what="lag back to zero", detail=lambda: report(osmem, writer))
        documents = osmem.documents("logs-*")
        assert seqs_in(documents) == list(range(1000))
        assert writer.metrics().get('otelcol_kafka_receiver_offset_lag{receiver="kafka",topic="otlp_logs",partition="0"}') == 0
    finally:
        for collector in started:
            collector.stop()
        proxy.stop()
