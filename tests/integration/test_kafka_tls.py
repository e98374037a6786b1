"""The kafka exporter over TLS against a real broker: tansu behind stunnel (Debian's TLS
terminator, OpenSSL), tansu advertising stunnel's port so every connection a client makes goes
through TLS. It proves the handshake with a private CA given as a file or as PEM text, mutual TLS
with a client certificate (stunnel refuses clients without one), and that a CA that did not sign
the broker's certificate refuses the data with "retry later" and one clear error, never a record.
Read back with confluent-kafka over the same TLS. (This tansu build cannot serve TLS itself, see
test_tansu.py; SASL is not exercised here.)"""
import subprocess

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

from conftest import free_port, make_pki, wait_until
from test_kafka_exporter import edge_config, make_traces
from test_tansu import newer_librdkafka, read_back, tansu_binary  # noqa: F401 (fixture)


class TLSBroker:
    """tansu on a plaintext port, stunnel in front of it; `bootstrap` is the TLS port."""

    def __init__(self, tmp, pki, client_certificates=False):
        self.plain, self.port = free_port(), free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.tansu = subprocess.Popen([str(tansu_binary()), "broker", "--listener-url", f"tcp://127.0.0.1:{self.plain}",
                                       "--advertised-listener-url", f"tcp://127.0.0.1:{self.port}", "--storage-engine", "memory://tansu/"],
                                      stdout=open(tmp / "tansu.log", "wb"), stderr=subprocess.STDOUT)
        conf = tmp / "stunnel.conf"
        conf.write_text(f"""foreground = yes
pid =
[kafka]
accept = 127.0.0.1:{self.port}
connect = 127.0.0.1:{self.plain}
cert = {pki / 'server.pem'}
key = {pki / 'server.key'}
""" + (f"CAfile = {pki / 'ca.pem'}\nverifyChain = yes\nrequireCert = yes\n" if client_certificates else ""))
        self.log = tmp / "stunnel.log"
        self.stunnel = subprocess.Popen(["stunnel4", str(conf)], stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        wait_until(lambda: self._accepts(self.plain) and self._accepts(self.port), what="tansu and stunnel listening")
        subprocess.run([str(tansu_binary()), "topic", "create", "otlp_spans", "--broker", f"tcp://127.0.0.1:{self.plain}",
                        "--partitions", "2"], check=True, capture_output=True)

    @staticmethod
    def _accepts(port):
        import socket
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def stop(self):
        for process in (self.stunnel, self.tansu):
            process.terminate()
            process.wait(timeout=20)


def indented(pem_path, spaces):
    return "|\n" + "".join(" " * spaces + line + "\n" for line in pem_path.read_text().splitlines())


def span_ids(spans):
    return sorted(format(s.context.span_id, "016x") for s in spans)


@pytest.mark.parametrize("form", ["files", "pem"])
def test_tls_with_a_private_ca(make_collector, ports, tmp_path, newer_librdkafka, form):
    pki = make_pki(tmp_path)
    broker = TLSBroker(tmp_path, pki, client_certificates=form == "pem")
    try:
        if form == "files":
            tls = f"    tls:\n      ca_file: {pki / 'ca.pem'}"
            consumer_tls = {"security.protocol": "ssl", "ssl.ca.location": str(pki / "ca.pem")}
        else:
            # Mutual TLS: stunnel requires a client certificate signed by the CA.
            tls = (f"    tls:\n      ca_pem: {indented(pki / 'ca.pem', 8)}      cert_pem: {indented(pki / 'client.pem', 8)}"
                   f"      key_pem: {indented(pki / 'client.key', 8)}")
            consumer_tls = {"security.protocol": "ssl", "ssl.ca.location": str(pki / "ca.pem"),
                            "ssl.certificate.location": str(pki / "client.pem"), "ssl.key.location": str(pki / "client.key")}
        make_collector(config=edge_config(ports, broker.bootstrap, tls), env=newer_librdkafka)
        spans = make_traces(traces=6, children=2)
        exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
        assert exporter.export(spans).name == "SUCCESS"
        exporter.shutdown()
        seen = read_back(broker.bootstrap, len(spans), consumer_tls)
        assert sorted(s.span_id.hex() for s in seen) == span_ids(spans)
    finally:
        broker.stop()


def test_a_ca_that_did_not_sign_the_broker_refuses_the_data(make_collector, ports, tmp_path, newer_librdkafka):
    pki = make_pki(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    make_pki(other)
    broker = TLSBroker(tmp_path, pki)
    try:
        # The caller waits for the outcome, and retries stop after 5 s, so the refusal reaches it.
        extra = (f"    tls:\n      ca_file: {other / 'ca.pem'}\n    sending_queue:\n      wait_for_result: true\n"
                 "    retry_on_failure:\n      initial_interval: 500ms\n      max_elapsed_time: 5s")
        collector = make_collector(config=edge_config(ports, broker.bootstrap, extra), env=newer_librdkafka)
        body = make_traces(traces=1, children=1)
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
            export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                         request_serializer=lambda b: b, response_deserializer=lambda b: b)
            with pytest.raises(grpc.RpcError) as refused:
                export(encode_spans(body).SerializeToString(), timeout=60)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        log = collector.log()
        assert "certificate verify failed" in log
        # Reconnects repeat the same failure; each shape of line is logged once a minute.
        assert log.count("certificate verify failed") <= 6, log
        from confluent_kafka import Consumer, TopicPartition
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "check", "security.protocol": "ssl",
                             "ssl.ca.location": str(pki / "ca.pem")})
        try:
            assert [consumer.get_watermark_offsets(TopicPartition("otlp_spans", p), timeout=10)[1] for p in (0, 1)] == [0, 0]
        finally:
            consumer.close()
    finally:
        broker.stop()


@pytest.mark.parametrize("name", ["kafka.internal", "other.internal"])
def test_server_name_override_is_the_name_the_certificate_must_hold(make_collector, ports, tmp_path, newer_librdkafka, name):
    """The broker is dialled at 127.0.0.1, but its certificate names only kafka.internal (so
    without the override the address check would refuse it). With `server_name_override:
    kafka.internal` the data goes through; with a name the certificate does not hold the
    handshake is refused, saying why, and the client is told to retry."""
    pki = make_pki(tmp_path, server_names="DNS:kafka.internal")
    broker = TLSBroker(tmp_path, pki)
    try:
        extra = (f"    tls:\n      ca_file: {pki / 'ca.pem'}\n      server_name_override: {name}\n"
                 "    sending_queue:\n      wait_for_result: true\n    retry_on_failure:\n      initial_interval: 500ms\n      max_elapsed_time: 5s")
        collector = make_collector(config=edge_config(ports, broker.bootstrap, extra), env=newer_librdkafka)
        spans = make_traces(traces=3, children=1)
        exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True, timeout=60)
        outcome = exporter.export(spans).name
        exporter.shutdown()
        if name == "kafka.internal":
            assert outcome == "SUCCESS"
            # The reading client checks the chain only: the certificate does not name the address.
            seen = read_back(broker.bootstrap, len(spans), {"security.protocol": "ssl", "ssl.ca.location": str(pki / "ca.pem"),
                                                            "ssl.endpoint.identification.algorithm": "none"})
            assert sorted(s.span_id.hex() for s in seen) == span_ids(spans)
        else:
            assert outcome == "FAILURE"
            assert "is not valid for other.internal (tls.server_name_override)" in collector.log(), collector.log()
    finally:
        broker.stop()


def expired_certificate(directory):
    """A self-signed certificate and key valid for one day in 2020 (made with PyPI cryptography:
    openssl's command line cannot date one in the past)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired-client")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    (directory / "expired.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "expired.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))


def test_validate_names_a_key_of_another_certificate_and_an_expired_certificate(tmp_path, ports):
    """`validate` reads the client certificate and key as librdkafka will: a key that belongs to
    another certificate, and a certificate past its end date, are errors naming the key path and
    the files, before anything connects."""
    from conftest import BINARY
    pki = make_pki(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    make_pki(other)
    expired_certificate(tmp_path)
    cases = [
        (pki / "client.pem", other / "client.key",
         f"exporters.kafka.tls.key_file: the key in {other / 'client.key'} does not belong to the certificate in {pki / 'client.pem'}"),
        (tmp_path / "expired.pem", tmp_path / "expired.key",
         f"exporters.kafka.tls.cert_file: the certificate in {tmp_path / 'expired.pem'} expired on Jan  2 00:00:00 2020 GMT"),
    ]
    for certificate, key, message in cases:
        config = tmp_path / "bad-tls.yaml"
        config.write_text(edge_config(ports, "127.0.0.1:9093", f"    tls:\n      ca_file: {pki / 'ca.pem'}\n      cert_file: {certificate}\n      key_file: {key}"))
        result = subprocess.run([str(BINARY), "validate", "--config", str(config)], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert message in result.stdout + result.stderr, result.stdout + result.stderr
