"""Authentication through the real binary: bearertokenauth and basicauth as server
authenticators on the OTLP receiver (requests and grpcio as clients, htpasswd entries from
Apache's htpasswd), as client authenticators of the otlphttp, otlp and elasticsearch exporters
(a second collector checking them, and a recording stand-in for Elasticsearch, since only a server
we control shows the headers it got), headers_setter copying a tenant header from the incoming
request, and no secret in any log line at debug level."""
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
import requests
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from conftest import Collector, collector_config, free_port, otlp_http_to, read_length_prefixed, service_section
from test_grpc_receiver import EXPORT, request
from test_kafka_exporter import make_traces

TOKEN = "edge-token-5f1c9e"
WRONG = "guessed-token-77aa"
PASSWORD = "pa55-w0rd-e1d"


def with_extensions(config, block, names):
    """The config with the extensions of the YAML `block` defined beside health_check and
    `names` listed in service.extensions."""
    config = config.replace("extensions:\n  health_check:", "extensions:" + block + "\n  health_check:")
    return config.replace("  extensions: [health_check]", f"  extensions: [health_check, {names}]")


def secured_receiver(ports, out, extensions, authenticator):
    """A collector whose OTLP receiver (both protocols) requires `authenticator`, logging at debug."""
    config = collector_config(ports, out, processors="[]",
                              grpc_extra=f"        auth:\n          authenticator: {authenticator}",
                              http_extra=f"        auth:\n          authenticator: {authenticator}")
    return at_debug(with_extensions(config, extensions, authenticator))


def at_debug(config):
    """The config with the collector's own logs at debug level."""
    return config.replace("  telemetry:\n    metrics:", "  telemetry:\n    logs:\n      level: debug\n    metrics:")


def post(ports, body, **headers):
    return requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=body,
                         headers={"Content-Type": "application/x-protobuf", **headers}, timeout=10)


def names(out):
    messages = read_length_prefixed(out / "traces.out", ExportTraceServiceRequest) if (out / "traces.out").exists() else []
    return sorted(s.name for m in messages for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans)


def test_bearer_token_required_on_http_and_grpc(make_collector, ports, tmp_path):
    collector = make_collector(config=secured_receiver(ports, tmp_path, f"\n  bearertokenauth:\n    token: {TOKEN}", "bearertokenauth"))
    missing = post(ports, request("missing", 1))
    assert missing.status_code == 401
    assert missing.text == "401 unauthorized: authentication failed: no Authorization header\n"
    wrong = post(ports, request("wrong", 1), Authorization=f"Bearer {WRONG}")
    assert wrong.status_code == 401
    assert post(ports, request("http", 2), Authorization=f"Bearer {TOKEN}").status_code == 200
    with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
        export = channel.unary_unary(EXPORT, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as refused:
            export(request("grpc-wrong", 1), metadata=[("authorization", f"Bearer {WRONG}")], timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert refused.value.details() == "authentication failed: the Authorization header does not hold an accepted token"
        assert export(request("grpc", 3), metadata=[("authorization", f"Bearer {TOKEN}")], timeout=10) == b""
    assert names(tmp_path) == ["grpc-0", "grpc-1", "grpc-2", "http-0", "http-1"]
    collector.stop()
    log = collector.log()
    assert "debug" in log, "the collector did not log at debug level"
    assert TOKEN not in log and WRONG not in log


def test_basic_auth_htpasswd_on_the_receiver(make_collector, ports, tmp_path):
    entry = subprocess.run(["htpasswd", "-nbm", "edge", PASSWORD], capture_output=True, text=True, check=True).stdout.strip()
    collector = make_collector(config=secured_receiver(
        ports, tmp_path, f"\n  basicauth/server:\n    htpasswd:\n      inline: |\n        {entry}", "basicauth/server"))
    assert requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=request("bad", 1), auth=("edge", "nope"),
                         headers={"Content-Type": "application/x-protobuf"}, timeout=10).status_code == 401
    assert requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=request("ok", 1), auth=("edge", PASSWORD),
                         headers={"Content-Type": "application/x-protobuf"}, timeout=10).status_code == 200
    assert names(tmp_path) == ["ok-0"]
    collector.stop()
    assert PASSWORD not in collector.log() and "nope" not in collector.log()


def test_exporters_authenticate_to_a_secured_backend(make_collector, ports, tmp_path):
    """Edge (otlphttp with basicauth, otlp with bearertokenauth) → backend requiring each."""
    backend_ports = {k: free_port() for k in ("grpc", "http", "health", "metrics")}
    backend_dir = tmp_path / "backend"
    backend_dir.mkdir()
    entry = subprocess.run(["htpasswd", "-nbs", "edge", PASSWORD], capture_output=True, text=True, check=True).stdout.strip()
    backend_config = collector_config(backend_ports, backend_dir, processors="[]",
                                      grpc_extra="        auth:\n          authenticator: bearertokenauth",
                                      http_extra="        auth:\n          authenticator: basicauth")
    backend_config = backend_config.replace("extensions:\n  health_check:", f"""extensions:
  bearertokenauth:
    token: {TOKEN}
  basicauth:
    htpasswd:
      inline: "{entry}"
  health_check:""").replace("  extensions: [health_check]", "  extensions: [health_check, bearertokenauth, basicauth]")
    backend = Collector(backend_dir, backend_config, **backend_ports).start()
    try:
        exporters = f"""
  otlphttp:
    endpoint: http://127.0.0.1:{backend_ports['http']}
    auth:
      authenticator: basicauth/client
    sending_queue:
      wait_for_result: true
  otlp:
    endpoint: 127.0.0.1:{backend_ports['grpc']}
    tls:
      insecure: true
    auth:
      authenticator: bearertokenauth/client
    sending_queue:
      wait_for_result: true"""
        config = otlp_http_to(ports, exporters, "otlphttp, otlp")
        config = config.replace("extensions:\n  health_check:", f"""extensions:
  basicauth/client:
    client_auth:
      username: edge
      password: {PASSWORD}
  bearertokenauth/client:
    token: {TOKEN}
  health_check:""").replace("  extensions: [health_check]", "  extensions: [health_check, basicauth/client, bearertokenauth/client]")
        edge = make_collector(config=at_debug(config))
        spans = make_traces(traces=3, children=1)
        assert post(ports, encode_spans(spans).SerializeToString()).status_code == 200
        # Each span arrives twice: once over HTTP with Basic credentials, once over gRPC with the token.
        assert len(names(backend_dir)) == 2 * len(spans)
        edge.stop()
        assert TOKEN not in edge.log() and PASSWORD not in edge.log()
    finally:
        backend.stop()
    assert TOKEN not in backend.log() and PASSWORD not in backend.log()


def send_json(handler, status, body, **headers):
    """Answers a BaseHTTPRequestHandler's request with `body` (bytes) as JSON."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class FakeElasticsearch(BaseHTTPRequestHandler):
    """A stand-in for Elasticsearch that records each request's headers and stores nothing: only a
    server we control shows the headers an exporter sent."""
    received = []

    def do_GET(self):
        body = json.dumps({"version": {"number": "8.17.0"}, "tagline": "You Know, for Search"}).encode()
        self.respond(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FakeElasticsearch.received.append(dict(self.headers))
        lines = [line for line in body.split(b"\n") if line]
        items = [{"create": {"_index": json.loads(action)["create"]["_index"], "status": 201}} for action in lines[0::2]]
        self.respond(json.dumps({"errors": False, "items": items}).encode())

    def respond(self, body):
        send_json(self, 200, body, X_Elastic_Product="Elasticsearch")

    def log_message(self, *args):
        pass


def test_headers_setter_and_bearer_token_on_the_elasticsearch_exporter(make_collector, ports, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeElasticsearch)
    FakeElasticsearch.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{ports['http']}
        include_metadata: true
exporters:
  elasticsearch/tenant:
    endpoint: http://127.0.0.1:{server.server_port}
    compression: none
    auth:
      authenticator: headers_setter
    sending_queue:
      wait_for_result: true
  elasticsearch/token:
    endpoint: http://127.0.0.1:{server.server_port}
    compression: none
    auth:
      authenticator: bearertokenauth
    sending_queue:
      wait_for_result: true
extensions:
  headers_setter:
    headers:
      - key: X-Scope-OrgID
        from_context: x-tenant
        default_value: unknown
  bearertokenauth:
    token: {TOKEN}
  health_check:
    endpoint: 127.0.0.1:{ports['health']}
service:
  extensions: [health_check, headers_setter, bearertokenauth]
  telemetry:
    metrics:
      address: 127.0.0.1:{ports['metrics']}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [elasticsearch/tenant, elasticsearch/token]
"""
        make_collector(config=config)
        body = encode_spans(make_traces(traces=1, children=1)).SerializeToString()
        assert post(ports, body, **{"X-Tenant": "acme"}).status_code == 200
        assert post(ports, body).status_code == 200
        seen = [(h.get("X-Scope-OrgID"), h.get("Authorization")) for h in FakeElasticsearch.received]
        assert sorted(seen, key=str) == sorted([("acme", None), ("unknown", None), (None, f"Bearer {TOKEN}"), (None, f"Bearer {TOKEN}")], key=str)
    finally:
        server.shutdown()


def test_an_authenticator_that_is_not_configured_is_a_config_error(tmp_path, ports):
    config = tmp_path / "c.yaml"
    config.write_text(collector_config(ports, tmp_path, processors="[]", http_extra="        auth:\n          authenticator: oidc"))
    from conftest import BINARY
    result = subprocess.run([str(BINARY), "validate", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "receivers.otlp.protocols.http.auth.authenticator: names extension \"oidc\", which is not configured and listed in service.extensions" in result.stdout + result.stderr


def test_no_secret_of_kafka_elasticsearch_or_headers_in_validate_logs_or_metrics(make_collector, ports, tmp_path):
    """Exporters holding a SASL password, an Elasticsearch API key and password, and an
    Authorization header, all failing to reach their destinations, at debug level: none of the
    secrets in `validate`'s output, the log (through the drain at shutdown, where the failed
    exports are reported) or the metrics."""
    from conftest import BINARY, wait_until
    secrets = ["kafka-secret-9d8e7f", "es-apikey-1a2b3c", "es-password-4d5e6f", "hdr-token-7g8h9i"]
    exporters = f"""
  kafka:
    brokers: ["127.0.0.1:{free_port()}"]
    auth:
      sasl: {{mechanism: SCRAM-SHA-512, username: edge, password: {secrets[0]}}}
  elasticsearch:
    endpoints: ["http://127.0.0.1:{free_port()}"]
    api_key: {secrets[1]}
  elasticsearch/basic:
    endpoints: ["http://127.0.0.1:{free_port()}"]
    user: elastic
    password: {secrets[2]}
  otlphttp:
    endpoint: http://127.0.0.1:{free_port()}
    headers: {{Authorization: "Bearer {secrets[3]}"}}"""
    config = at_debug(otlp_http_to(ports, exporters, "kafka, elasticsearch, elasticsearch/basic, otlphttp"))
    path = tmp_path / "secrets.yaml"
    path.write_text(config)
    validated = subprocess.run([str(BINARY), "validate", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    collector = make_collector(config=config)
    assert post(ports, encode_spans(make_traces(traces=2, children=1)).SerializeToString()).status_code == 200
    wait_until(lambda: "brokers are down" in collector.log(), what="the kafka exporter's connection errors")
    metrics = requests.get(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=10).text
    collector.stop()
    outputs = {"validate": validated.stdout + validated.stderr, "log": collector.log(), "metrics": metrics}
    assert "cannot reach" in outputs["log"] and "otelcol_exporter" in outputs["metrics"]
    leaks = [(secret, where) for secret in secrets for where, text in outputs.items() if secret in text]
    assert not leaks, f"secrets found: {leaks}"


class ContainerCredentials(BaseHTTPRequestHandler):
    """Answers as the ECS / EKS Pod Identity container credentials endpoint does (its documented
    JSON), recording each request's path and Authorization header; a hand-written stand-in, as
    no such endpoint exists outside AWS. `refuse` makes it answer 403."""
    asked = []
    refuse = False
    body = b""

    def do_GET(self):
        type(self).asked.append((self.path, self.headers.get("Authorization")))
        send_json(self, *((403, b"denied") if type(self).refuse else (200, type(self).body)))

    def log_message(self, *args):
        pass


def test_msk_iam_signs_with_container_credentials_and_says_when_there_are_none(make_collector, ports, tmp_path):
    """Go's AWS_MSK_IAM_OAUTHBEARER config: the kafka exporter asks the container credentials
    endpoint (with its authorization token) as librdkafka wants its first token, and the token is
    taken, at debug level without any of the credentials in the log or metrics. When the endpoint
    refuses, the log says so once, with the endpoint's answer. No broker here accepts MSK IAM
    tokens (the embedded broker speaks no SASL); the tokens are checked byte for byte against
    AWS's signer in AWSSigningTests."""
    import os
    from conftest import BINARY, wait_until
    secrets = ["temp-secret-0f9e8d", "temp-session-7c6b5a", "container-token-4e3d2c"]
    ContainerCredentials.body = json.dumps({"AccessKeyId": "ASIAEXAMPLEKEY", "SecretAccessKey": secrets[0], "Token": secrets[1],
                                            "Expiration": "2030-01-01T00:00:00Z"}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), ContainerCredentials)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    exporters = f"""
  kafka:
    brokers: ["127.0.0.1:{free_port()}"]
    tls: {{insecure: true}}
    auth:
      sasl:
        mechanism: AWS_MSK_IAM_OAUTHBEARER
        aws_msk: {{region: eu-west-1}}"""
    config = at_debug(otlp_http_to(ports, exporters, "kafka"))
    path = tmp_path / "msk.yaml"
    path.write_text(config)
    validated = subprocess.run([str(BINARY), "validate", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{server.server_address[1]}/v2/credentials/ingest",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": secrets[2], "HOME": str(tmp_path)})
    try:
        collector = make_collector(config=config, env=env)
        wait_until(lambda: "SASL OAUTHBEARER token refreshed" in collector.log(), what="the first MSK IAM token")
        assert ContainerCredentials.asked[0] == ("/v2/credentials/ingest", secrets[2])
        metrics = requests.get(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=10).text
        collector.stop()
        log = collector.log()
        assert "Failed to acquire SASL OAUTHBEARER token" not in log
        leaks = [(secret, where) for secret in secrets for where, text in
                 (("validate", validated.stdout + validated.stderr), ("log", log), ("metrics", metrics)) if secret in text]
        assert not leaks, f"secrets found: {leaks}"

        ContainerCredentials.refuse = True
        refused = make_collector(config=config, env=env)
        expected = (f"Failed to acquire SASL OAUTHBEARER token: the container credentials endpoint at "
                    f"http://127.0.0.1:{server.server_address[1]}/v2/credentials/ingest answered 403")
        wait_until(lambda: expected in refused.log(), what="the refused credentials reported")
        refused.stop()
        assert refused.log().count("Failed to acquire SASL OAUTHBEARER token") == 1, refused.log()
    finally:
        ContainerCredentials.refuse = False
        server.shutdown()


class TokenEndpoint(BaseHTTPRequestHandler):
    """An OAuth 2 token endpoint for the client credentials grant (RFC 6749 §4.4), as a
    hand-written stand-in: the OIDC servers on PyPI here (oidc-provider-mock) do not grant
    client credentials. It accepts the client's id and secret in a Basic header, records each
    request, and issues TOKEN for an hour."""
    asked = []
    client = ("edge-client", "oauth-secret-3e4f5a")

    def do_POST(self):
        import base64
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).asked.append(body)
        expected = "Basic " + base64.b64encode(":".join(type(self).client).encode()).decode()
        if self.headers.get("Authorization") == expected and "grant_type=client_credentials" in body:
            status, answer = 200, {"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600}
        else:
            status, answer = 401, {"error": "invalid_client"}
        send_json(self, status, json.dumps(answer).encode())

    def log_message(self, *args):
        pass


def test_oauth2client_tokens_for_an_exporter_and_for_kafka_oauthbearer(make_collector, ports, tmp_path):
    """oauth2client with Go's keys: the otlphttp exporter sends the endpoint's token to a backend
    that requires it (bearertokenauth), fetching it once for many requests; the kafka exporter's
    OAUTHBEARER (`oauthbearer_token_source: oauth2client`) takes the same token as librdkafka
    starts. The embedded broker speaks no SASL, so no broker checks that token here. Neither the
    client secret nor the token is in the edge's debug log."""
    from conftest import wait_until
    TokenEndpoint.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    backend_ports = {k: free_port() for k in ("grpc", "http", "health", "metrics")}
    backend_dir = tmp_path / "backend"
    backend_dir.mkdir()
    backend_config = collector_config(backend_ports, backend_dir, processors="[]",
                                      http_extra="        auth:\n          authenticator: bearertokenauth")
    backend_config = with_extensions(backend_config, f"\n  bearertokenauth:\n    token: {TOKEN}", "bearertokenauth")
    backend = Collector(backend_dir, backend_config, **backend_ports).start()
    try:
        exporters = f"""
  otlphttp:
    endpoint: http://127.0.0.1:{backend_ports['http']}
    auth:
      authenticator: oauth2client
    sending_queue:
      wait_for_result: true
  kafka:
    brokers: ["127.0.0.1:{free_port()}"]
    auth:
      sasl:
        mechanism: OAUTHBEARER
        oauthbearer_token_source: oauth2client"""
        config = otlp_http_to(ports, exporters, "otlphttp")
        config = config.replace("    traces:\n      receivers: [otlp]\n      processors: []\n      exporters: [otlphttp]\n",
                                "    traces:\n      receivers: [otlp]\n      processors: []\n      exporters: [otlphttp]\n"
                                "    logs:\n      receivers: [otlp]\n      processors: []\n      exporters: [kafka]\n")
        config = with_extensions(config, f"""
  oauth2client:
    client_id: {TokenEndpoint.client[0]}
    client_secret: {TokenEndpoint.client[1]}
    token_url: http://127.0.0.1:{server.server_address[1]}/oauth2/token
    scopes: [telemetry.write]
    endpoint_params:
      audience: backend""", "oauth2client")
        edge = make_collector(config=at_debug(config))
        wait_until(lambda: "SASL OAUTHBEARER token refreshed" in edge.log(), what="the kafka exporter's first token")
        spans = make_traces(traces=3, children=1)
        for _ in range(3):
            assert post(ports, encode_spans(spans).SerializeToString()).status_code == 200
        assert len(names(backend_dir)) == 3 * len(spans)
        # One token for the kafka exporter and the three exports.
        assert len(TokenEndpoint.asked) == 1, TokenEndpoint.asked
        assert TokenEndpoint.asked[0] == "audience=backend&grant_type=client_credentials&scope=telemetry.write"
        edge.stop()
        assert TOKEN not in edge.log() and TokenEndpoint.client[1] not in edge.log()
    finally:
        backend.stop()
        server.shutdown()
