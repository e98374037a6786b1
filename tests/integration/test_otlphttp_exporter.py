"""The otlphttp exporter: to our own OTLP/HTTP receiver (a second collector process), and to a
controllable HTTP server for the OTLP/HTTP retry rules (429/503 with Retry-After retried and
honoured, 400 never retried) and for TLS with a private CA and a client certificate. That server
is a small hand-written stand-in, since only a server we control can answer 503 on demand or
demand a client certificate; it records what it received."""
import gzip
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from conftest import otlp_http_to, Collector, free_port, make_pki, read_length_prefixed
from test_kafka_exporter import make_traces
from test_sdk_roundtrip import merged


def forwarding_config(ports, target, extra=""):
    """Forwards to `target`; the exporter's outcome reaches the client (wait_for_result), so each
    test reads the exporter's answer in the receiver's reply."""
    return otlp_http_to(ports, f"""
  otlphttp:
    endpoint: {target}
    sending_queue:
      wait_for_result: true
    retry_on_failure:
      initial_interval: 100ms
      max_elapsed_time: 20s
{extra}""", "otlphttp")


def post_spans(ports, spans):
    body = encode_spans(spans).SerializeToString()
    return requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=body,
                         headers={"Content-Type": "application/x-protobuf"}, timeout=60)


@pytest.fixture
def sink(tmp_path):
    """A second otelcol-swift: OTLP in (gRPC and HTTP), file out; yields its ports and output."""
    from conftest import collector_config
    sink_ports = {k: free_port() for k in ("grpc", "http", "health", "metrics")}
    sink_dir = tmp_path / "sink"
    sink_dir.mkdir()
    collector = Collector(sink_dir, collector_config(sink_ports, sink_dir, processors="[]"), **sink_ports).start()
    yield collector, sink_ports, sink_dir / "traces.out"
    collector.stop()


@pytest.mark.parametrize("extra", ["", "    encoding: json\n    compression: zstd"])
def test_to_our_own_receiver_arrives_exactly(make_collector, ports, sink, extra):
    _, sink_ports, out_file = sink
    make_collector(config=forwarding_config(ports, f"http://127.0.0.1:{sink_ports['http']}", extra))
    spans = make_traces(traces=5, children=3)
    assert post_spans(ports, spans).status_code == 200
    out = merged(read_length_prefixed(out_file, ExportTraceServiceRequest), ExportTraceServiceRequest)
    assert out == encode_spans(spans)


class Scripted(BaseHTTPRequestHandler):
    """Answers each POST with the next scripted (status, headers) and records the request."""
    script = []
    received = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        Scripted.received.append((time.monotonic(), dict(self.headers), body))
        status, headers = Scripted.script.pop(0) if Scripted.script else (200, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    Scripted.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_503_with_retry_after_is_honoured_then_delivered(make_collector, ports, scripted_server):
    Scripted.script = [(503, {"Retry-After": "1"}), (429, {"Retry-After": "1"})]
    collector = make_collector(config=forwarding_config(ports, f"http://127.0.0.1:{scripted_server.server_port}"))
    spans = make_traces(traces=2, children=1)
    assert post_spans(ports, spans).status_code == 200
    assert len(Scripted.received) == 3
    gaps = [b[0] - a[0] for a, b in zip(Scripted.received, Scripted.received[1:])]
    assert all(gap >= 0.9 for gap in gaps), gaps
    last_headers, last_body = Scripted.received[-1][1], Scripted.received[-1][2]
    assert last_headers["Content-Encoding"] == "gzip"
    request = ExportTraceServiceRequest()
    request.ParseFromString(gzip.decompress(last_body))
    assert request == encode_spans(spans)
    assert collector.metrics()['otelcol_exporter_sent_spans_total{exporter="otlphttp"}'] == 4


def test_400_is_not_retried_and_reaches_the_client(make_collector, ports, scripted_server):
    Scripted.script = [(400, {})]
    collector = make_collector(config=forwarding_config(ports, f"http://127.0.0.1:{scripted_server.server_port}"))
    response = post_spans(ports, make_traces(traces=1, children=1))
    assert response.status_code == 400
    assert len(Scripted.received) == 1
    assert collector.metrics()['otelcol_exporter_send_failed_spans_total{exporter="otlphttp"}'] == 2


def test_otlp_grpc_exporter_to_our_own_receiver_with_gzip(make_collector, ports, sink):
    sink_collector, sink_ports, out_file = sink
    config = forwarding_config(ports, "unused").replace(
        "  otlphttp:\n    endpoint: unused\n    sending_queue:\n      wait_for_result: true\n",
        f"  otlp:\n    endpoint: 127.0.0.1:{sink_ports['grpc']}\n    tls:\n      insecure: true\n    sending_queue:\n      wait_for_result: true\n").replace(
        "exporters: [otlphttp]", "exporters: [otlp]").replace("max_elapsed_time: 20s", "max_elapsed_time: 2s")
    make_collector(config=config)
    spans = make_traces(traces=4, children=2)
    assert post_spans(ports, spans).status_code == 200
    out = merged(read_length_prefixed(out_file, ExportTraceServiceRequest), ExportTraceServiceRequest)
    assert out == encode_spans(spans)
    sink_collector.stop()
    # The sink is gone: a transient failure, retried until retry_on_failure gives up, then the
    # client is told to retry later.
    response = post_spans(ports, make_traces(traces=1, children=1))
    assert response.status_code == 503


class PeerRecorded(Scripted):
    """Scripted, also recording the common name of the client certificate of each request."""
    peers = []

    def do_POST(self):
        subject = dict(entry[0] for entry in self.connection.getpeercert().get("subject", ()))
        PeerRecorded.peers.append(subject.get("commonName"))
        super().do_POST()


def test_tls_with_a_private_ca_and_a_client_certificate(make_collector, ports, tmp_path):
    pki = make_pki(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    context.load_verify_locations(pki / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    server = ThreadingHTTPServer(("127.0.0.1", 0), PeerRecorded)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    Scripted.received, Scripted.script, PeerRecorded.peers = [], [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = f"https://127.0.0.1:{server.server_port}"
        tls = f"    tls:\n      ca_file: {pki / 'ca.pem'}\n      cert_file: {pki / 'client.pem'}\n      key_file: {pki / 'client.key'}"
        collector = make_collector(config=forwarding_config(ports, target, tls))
        spans = make_traces(traces=2, children=1)
        assert post_spans(ports, spans).status_code == 200
        assert PeerRecorded.peers == ["otelcol-client"]
        request = ExportTraceServiceRequest()
        request.ParseFromString(gzip.decompress(Scripted.received[0][2]))
        assert request == encode_spans(spans)
        collector.stop()

        # Without the CA the server's certificate is not trusted: nothing is sent, and the client
        # is told to retry once retry_on_failure gives up.
        make_collector(config=forwarding_config(ports, target).replace("max_elapsed_time: 20s", "max_elapsed_time: 1s"))
        assert post_spans(ports, make_traces(traces=1, children=1)).status_code == 503
        assert len(Scripted.received) == 1
    finally:
        server.shutdown()
