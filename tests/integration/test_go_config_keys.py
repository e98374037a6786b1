"""Keys of today's Go collector, through the real binary: the HTTP server's connection keys as a
client sees them on the socket, the otlphttp exporter through a real HTTP proxy (proxy.py from
PyPI), and the warnings `validate` and the running collector give for keys without effect."""
import http.client
import socket
import subprocess
import sys
import time

import requests
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from conftest import BINARY, Collector, collector_config, free_port, otlp_http_to, read_length_prefixed, wait_until
from test_kafka_exporter import make_traces


def post(ports, body=b"", session=requests):
    return session.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=body,
                        headers={"Content-Type": "application/x-protobuf"}, timeout=10)


def closed_by_server(sock, timeout):
    """Whether the server closes `sock` within `timeout` seconds (recv returns end of stream)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_keep_alives_disabled_closes_after_each_response(make_collector, ports, tmp_path):
    make_collector(http_extra="        keep_alives_enabled: false")
    with requests.Session() as session:
        response = post(ports, session=session)
        assert response.status_code == 200
        assert response.headers["Connection"] == "close"


def test_idle_timeout_closes_a_silent_connection_but_not_a_busy_one(make_collector, ports):
    make_collector(http_extra="        idle_timeout: 1s")
    idle = socket.create_connection(("127.0.0.1", ports["http"]))
    assert closed_by_server(idle, timeout=15), "an idle connection stayed open past idle_timeout"
    # A connection that keeps sending requests is not idle: three requests 0.6 s apart on one
    # connection (longer together than the timeout) are all answered on it.
    busy = http.client.HTTPConnection("127.0.0.1", ports["http"], timeout=10)
    local_ports = set()
    for _ in range(3):
        busy.request("POST", "/v1/traces", body=b"", headers={"Content-Type": "application/x-protobuf"})
        response = busy.getresponse()
        response.read()
        assert response.status == 200
        local_ports.add(busy.sock.getsockname()[1])
        time.sleep(0.6)  # the gap between requests is what is measured, not a wait for state
    busy.close()
    assert len(local_ports) == 1, "the server closed a connection that was in use"


def test_otlphttp_through_a_real_proxy(tmp_path, ports):
    sink_ports = {k: free_port() for k in ("grpc", "http", "health", "metrics")}
    sink_dir = tmp_path / "sink"
    sink_dir.mkdir()
    sink = Collector(sink_dir, collector_config(sink_ports, sink_dir, processors="[]"), **sink_ports).start()
    proxy_port = free_port()
    proxy_log = tmp_path / "proxy.log"
    proxy = subprocess.Popen([sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(proxy_port),
                              "--num-workers", "1", "--num-acceptors", "1", "--log-level", "INFO"],
                             stdout=open(proxy_log, "wb"), stderr=subprocess.STDOUT)
    edge_dir = tmp_path / "edge"
    edge_dir.mkdir()
    try:
        wait_until(lambda: _accepts(proxy_port), what="proxy.py to listen")
        config = otlp_http_to(ports, f"""
  otlphttp:
    endpoint: http://127.0.0.1:{sink_ports['http']}
    proxy_url: http://127.0.0.1:{proxy_port}
    sending_queue:
      wait_for_result: true
""", "otlphttp")
        edge = Collector(edge_dir, config, **ports).start()
        try:
            spans = make_traces(traces=3, children=2)
            assert post(ports, encode_spans(spans).SerializeToString()).status_code == 200
            out = read_length_prefixed(sink_dir / "traces.out", ExportTraceServiceRequest)
            got = {s.span_id for r in out for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans}
            assert len(got) == len(spans)
        finally:
            edge.stop()
        # AsyncHTTPClient tunnels through the proxy (CONNECT); proxy.py logs a tunnel when it
        # closes, which the edge's stop does.
        wait_until(lambda: f"CONNECT 127.0.0.1:{sink_ports['http']}" in proxy_log.read_text(errors="replace"),
                   what="the proxy to log the tunnel", detail=lambda: proxy_log.read_text(errors="replace"))
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        sink.stop()


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


GO_CONFIG = """
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
        keepalive:
          server_parameters:
            max_connection_idle: 11s
exporters:
  otlp_grpc:
    endpoint: 127.0.0.1:4317
    balancer_name: round_robin
    tls:
      insecure: true
extensions:
  health_check:
    endpoint: 127.0.0.1:{health}
service:
  extensions: [health_check]
  telemetry:
    logs:
      encoding: json
    metrics:
      address: 127.0.0.1:{metrics}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_grpc]
"""

EXPECTED_WARNINGS = [
    "receivers.otlp.protocols.grpc.keepalive is accepted but has no effect",
    "exporters.otlp_grpc.balancer_name is accepted but has no effect",
    "service.telemetry.logs.encoding is accepted but has no effect",
]


def test_keys_without_effect_are_named_by_validate_and_at_start(tmp_path, ports):
    path = tmp_path / "go.yaml"
    path.write_text(GO_CONFIG.format(**ports))
    result = subprocess.run([str(BINARY), "validate", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    for warning in EXPECTED_WARNINGS:
        assert sum(line.startswith(f"warning: {warning}") for line in result.stdout.splitlines()) == 1, result.stdout
    collector = Collector(tmp_path, GO_CONFIG.format(**ports), **ports).start()
    try:
        for warning in EXPECTED_WARNINGS:
            assert collector.log().count(warning) == 1, collector.log()
    finally:
        collector.stop()


def test_a_second_collector_on_the_same_ports_names_what_it_could_not_bind(make_collector, ports, tmp_path):
    """Each listener in turn is the one taken: the error names the component, the key and the
    address, as the Go collector names the address."""
    first = make_collector()
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    free = {name: free_port() for name in ports}
    expected = {
        "metrics": f"failed to start the collector's metrics endpoint: service.telemetry.metrics.address: cannot listen on 127.0.0.1:{ports['metrics']}: address already in use",
        "health": f"failed to start extension health_check: extensions.health_check.endpoint: cannot listen on 127.0.0.1:{ports['health']}: address already in use",
        "grpc": f"failed to start receiver otlp: receivers.otlp.protocols.grpc.endpoint: cannot listen on 127.0.0.1:{ports['grpc']}: address already in use",
        "http": f"failed to start receiver otlp: receivers.otlp.protocols.http.endpoint: cannot listen on 127.0.0.1:{ports['http']}: address already in use",
    }
    for taken, message in expected.items():
        mixed = {**free, taken: ports[taken]}
        path = second_dir / f"{taken}.yaml"
        path.write_text(collector_config(mixed, second_dir, processors="[]"))
        result = subprocess.run([str(BINARY), "--config", str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert message in result.stderr, result.stderr
    assert first.process.poll() is None


def test_a_failed_start_stops_exporters_that_never_started(make_collector, ports, tmp_path):
    """The metrics endpoint is the first thing started, so when its port is taken no exporter
    has started; the elasticsearch and otlphttp exporters were built with their HTTP clients all
    the same, and the collector must stop them too: exit code 1 and the one error, not a crash
    on the way out."""
    make_collector()
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    mixed = {"http": free_port(), "health": free_port(), "metrics": ports["metrics"]}
    exporters = """
  elasticsearch:
    endpoint: http://127.0.0.1:1
  otlphttp:
    endpoint: http://127.0.0.1:1"""
    path = second_dir / "taken.yaml"
    path.write_text(otlp_http_to(mixed, exporters, "elasticsearch, otlphttp", signals=("traces", "logs")))
    result = subprocess.run([str(BINARY), "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{ports['metrics']}: address already in use" in result.stderr, result.stderr
    assert "shut down" not in result.stderr and "Fatal error" not in result.stderr, result.stderr


def test_an_unopenable_file_names_its_key(tmp_path, ports):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    path = tmp_path / "bad-file.yaml"
    path.write_text(collector_config(ports, blocker, processors="[]"))
    result = subprocess.run([str(BINARY), "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"failed to start exporter file/logs: exporters.file/logs.path: cannot create the directory {blocker}: file exists" in result.stderr, result.stderr
