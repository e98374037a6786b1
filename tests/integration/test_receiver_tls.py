"""The otlp receiver serving TLS, with grpcio and requests as clients: server certificates from a
private CA, client certificates required when `client_ca_file` is set (mutual TLS), plaintext
refused on a TLS port, certificate errors named in the config check, and the otlp exporter's
client certificate against a receiver that requires one."""
import subprocess

import grpc
import pytest
import requests

from conftest import BINARY, Collector, collector_config, free_port, make_pki, otlp_http_to
from test_grpc_receiver import export_stub, request, written_names


def tls_block(pki, client_ca=False):
    block = f"        tls:\n          cert_file: {pki / 'server.pem'}\n          key_file: {pki / 'server.key'}"
    return block + (f"\n          client_ca_file: {pki / 'ca.pem'}" if client_ca else "")


def test_grpc_over_tls_with_a_private_ca(make_collector, ports, tmp_path):
    pki = make_pki(tmp_path)
    make_collector(grpc_extra=tls_block(pki))
    credentials = grpc.ssl_channel_credentials(root_certificates=(pki / "ca.pem").read_bytes())
    with grpc.secure_channel(f"127.0.0.1:{ports['grpc']}", credentials) as channel:
        export = export_stub(channel)
        assert export(request("tls", 20), timeout=30) == b""
        assert export(request("tls-gzip", 5, pad=1000), timeout=30, compression=grpc.Compression.Gzip) == b""
    # A plaintext client gets no answer from a TLS port.
    with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
        with pytest.raises(grpc.RpcError) as refused:
            export_stub(channel)(request("plain", 1), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert sorted(written_names(tmp_path)) == sorted([f"tls-{i}" for i in range(20)] + [f"tls-gzip-{i}" for i in range(5)])


def test_http_with_mutual_tls(make_collector, ports, tmp_path):
    pki = make_pki(tmp_path)
    make_collector(http_extra=tls_block(pki, client_ca=True))
    url = f"https://127.0.0.1:{ports['http']}/v1/traces"
    headers = {"Content-Type": "application/x-protobuf"}
    answer = requests.post(url, data=request("mtls", 7), headers=headers, verify=str(pki / "ca.pem"),
                           cert=(str(pki / "client.pem"), str(pki / "client.key")), timeout=30)
    assert answer.status_code == 200
    # Without a client certificate the handshake fails: nothing is accepted.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url, data=request("anonymous", 3), headers=headers, verify=str(pki / "ca.pem"), timeout=30)
    # The gRPC side of the same receiver stays plaintext.
    with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
        assert export_stub(channel)(request("grpc", 2), timeout=30) == b""
    assert sorted(written_names(tmp_path)) == sorted([f"mtls-{i}" for i in range(7)] + ["grpc-0", "grpc-1"])


def test_certificate_problems_are_config_errors(ports, tmp_path):
    pki = make_pki(tmp_path)
    config = tmp_path / "config.yaml"
    missing = tls_block(pki).replace(str(pki / "server.key"), str(pki / "absent.key"))
    config.write_text(collector_config(ports, tmp_path, grpc_extra=missing))
    result = subprocess.run([str(BINARY), "validate", "--config", str(config)], capture_output=True, text=True)
    assert result.returncode != 0
    assert f"error: {config}: receivers.otlp.protocols.grpc.tls.key_file: cannot read {pki / 'absent.key'}" in result.stderr
    config.write_text(collector_config(ports, tmp_path, http_extra="        tls:\n          key_file: x.key"))
    result = subprocess.run([str(BINARY), "validate", "--config", str(config)], capture_output=True, text=True)
    assert f"error: {config}: receivers.otlp.protocols.http.tls.cert_file: a server certificate is required (cert_file or cert_pem)" in result.stderr


def test_otlp_exporter_with_a_client_certificate_to_our_tls_receiver(make_collector, ports, tmp_path):
    """Both ends of mutual TLS in otelcol-swift: the otlp (gRPC) exporter presents a client
    certificate to a receiver that requires one."""
    pki = make_pki(tmp_path)
    sink_ports = {k: free_port() for k in ("grpc", "http", "health", "metrics")}
    sink_dir = tmp_path / "sink"
    sink_dir.mkdir()
    sink = Collector(sink_dir, collector_config(sink_ports, sink_dir, processors="[]", grpc_extra=tls_block(pki, client_ca=True)),
                     **sink_ports).start()
    try:
        def forwarder(tls):
            return otlp_http_to(ports, f"""
  otlp:
    endpoint: 127.0.0.1:{sink_ports['grpc']}
    sending_queue:
      wait_for_result: true
    retry_on_failure:
      initial_interval: 100ms
      max_elapsed_time: 8s
    tls:
      ca_file: {pki / 'ca.pem'}
{tls}""", "otlp")
        forwarding = make_collector(config=forwarder(f"      cert_file: {pki / 'client.pem'}\n      key_file: {pki / 'client.key'}"))
        post = lambda name, count: requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=request(name, count),
                                                 headers={"Content-Type": "application/x-protobuf"}, timeout=60)
        answer = post("mtls", 6)
        assert answer.status_code == 200, answer.text
        assert sorted(written_names(sink_dir)) == sorted(f"mtls-{i}" for i in range(6))
        forwarding.stop()
        # Without its certificate the exporter is refused by the receiver: the client is told to
        # retry, and nothing more arrives.
        make_collector(config=forwarder(""))
        assert post("anonymous", 2).status_code == 503
        assert sorted(written_names(sink_dir)) == sorted(f"mtls-{i}" for i in range(6))
    finally:
        sink.stop()
