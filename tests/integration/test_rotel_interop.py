"""Interop with rotel (a Rust collector, PyPI `rotel`): our otlphttp exporter into rotel's OTLP
receiver, rotel's kafka exporter into our kafka receiver."""
import subprocess

import pytest

from conftest import BINARY, Collector, free_port, new_ports, rotel_agent, service_section, wait_until
from kafka_support import KafkaDev


@pytest.fixture
def kafka():
    broker = KafkaDev(partitions=2, topics=("otlp_spans", "otlp_logs"))
    yield broker
    broker.stop()


@pytest.mark.parametrize("rotel_format,encoding", [("protobuf", "otlp_proto"), ("json", "otlp_json")])
def test_otlphttp_to_rotel_and_rotel_kafka_to_our_receiver(tmp_path, kafka, rotel_format, encoding):
    """telemetrygen → our edge (otlphttp) → rotel (OTLP/HTTP in, kafka out) → broker → our backend
    (kafka receiver) → file: every sequence number exactly once."""
    rotel_http = free_port()
    rotel = subprocess.Popen([str(rotel_agent()), "start", "--otlp-grpc-endpoint", f"127.0.0.1:{free_port()}",
                              "--otlp-http-endpoint", f"127.0.0.1:{rotel_http}", "--exporter", "kafka",
                              "--kafka-exporter-brokers", kafka.bootstrap, "--kafka-exporter-format", rotel_format,
                              "--kafka-exporter-traces-topic", "otlp_spans", "--kafka-exporter-logs-topic", "otlp_logs"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    started = []
    try:
        front_ports, back_ports = new_ports(), new_ports()
        (tmp_path / "front").mkdir()
        (tmp_path / "back").mkdir()
        front = Collector(tmp_path / "front", f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{front_ports['grpc']}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:{rotel_http}
    retry_on_failure:
      initial_interval: 100ms
""" + service_section(front_ports, """    traces:
      receivers: [otlp]
      exporters: [otlphttp]
    logs:
      receivers: [otlp]
      exporters: [otlphttp]
"""), **front_ports).start()
        started.append(front)
        back = Collector(tmp_path / "back", f"""
receivers:
  kafka:
    brokers: [{kafka.bootstrap}]
    group_id: from-rotel
    initial_offset: earliest
    traces:
      encoding: {encoding}
    logs:
      encoding: {encoding}
exporters:
  file/traces:
    path: {tmp_path}/traces.json
  file/logs:
    path: {tmp_path}/logs.json
""" + service_section(back_ports, """    traces:
      receivers: [kafka]
      exporters: [file/traces]
    logs:
      receivers: [kafka]
      exporters: [file/logs]
"""), **back_ports).start()
        started.append(back)
        for signal, count in (("traces", 200), ("logs", 500)):
            result = subprocess.run([str(BINARY), "telemetrygen", signal, "--otlp-endpoint", f"127.0.0.1:{front_ports['grpc']}",
                                     f"--{signal}", str(count), "--batch-size", "50"], capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stdout + result.stderr

        def complete(name, expect):
            path = tmp_path / name
            return path.exists() and subprocess.run([str(BINARY), "telemetrygen", "check", "--file", str(path), "--expect", str(expect)],
                                                    capture_output=True).returncode == 0
        # 200 traces of 2 spans each; 500 log records.
        wait_until(lambda: complete("traces.json", 400) and complete("logs.json", 500), timeout=60,
                   what="everything through rotel and Kafka into the file")
    finally:
        for collector in started:
            collector.stop()
        rotel.terminate()
        rotel.wait(timeout=10)
