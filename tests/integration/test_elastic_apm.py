"""The elasticapm processor in the whole binary: spans made by the OpenTelemetry Python SDK go
through OTLP/HTTP, the processor and the elasticsearch exporter into osmem-server (a real
OpenSearch-compatible server), and the documents carry the fields Kibana's APM UI reads."""
import hashlib
import os

import requests
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as ResourceProto
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from conftest import ROOT, Collector, new_ports, otlp_http_to, service_section, wait_until
from es_support import Osmem, es_exporter_config
from kafka_support import KafkaDev


def checkout_trace():
    """A server transaction with a database call, an outgoing HTTP call that fails, and an
    exception recorded on the transaction."""
    memory = InMemorySpanExporter()
    # No `deployment.environment.name`: the processor copies it to `deployment.environment`, and
    # osmem-server's dynamic mapping cannot hold a key that is also another key's prefix
    # (Elasticsearch's otel templates map attributes without sub-objects). The unit tests cover it.
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout", "host.name": "vm-1"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("io.shop.web", "3.1.0")
    with tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER,
                                      attributes={"http.request.method": "POST", "http.response.status_code": 201}) as root:
        with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT,
                                          attributes={"db.system": "postgresql", "db.namespace": "shop"}):
            pass
        with tracer.start_as_current_span("GET", kind=SpanKind.CLIENT,
                                          attributes={"http.request.method": "GET", "url.full": "https://pay.example.com:8443/charge",
                                                      "http.response.status_code": 503}):
            pass
        root.record_exception(ValueError("card declined"))
    provider.shutdown()
    return memory.get_finished_spans()


def test_sdk_spans_are_enriched_for_the_apm_ui(make_collector, ports, osmem):
    spans = checkout_trace()
    exporter = es_exporter_config(osmem.url, "    sending_queue:\n      wait_for_result: true\n")
    config = otlp_http_to(ports, exporter, "elasticsearch", processors="[elasticapm]").replace(
        "exporters:", "processors:\n  elasticapm: {}\nexporters:", 1)
    make_collector(config)
    body = encode_spans(spans).SerializeToString()
    response = requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=body,
                             headers={"Content-Type": "application/x-protobuf"}, timeout=60)
    assert response.status_code == 200, response.text
    wait_until(lambda: osmem.count("traces-generic.otel-default") == 3, what="span documents")
    documents = {source["name"]: source for _, _, source in osmem.documents("traces-*")}

    transaction = documents["POST /checkout"]
    root = next(s for s in spans if s.name == "POST /checkout")
    attributes = transaction["attributes"]
    assert attributes["processor.event"] == "transaction"
    assert attributes["transaction.id"] == format(root.context.span_id, "016x")
    assert attributes["transaction.name"] == "POST /checkout"
    assert attributes["transaction.type"] == "request"
    assert attributes["transaction.result"] == "HTTP 2xx"
    assert attributes["transaction.root"] is True and attributes["transaction.sampled"] is True
    assert attributes["transaction.duration.us"] == (root.end_time - root.start_time) // 1000
    assert attributes["event.outcome"] == "success" and attributes["event.success_count"] == 1
    resource = transaction["resource"]["attributes"]
    assert resource["agent.name"] == "opentelemetry/python"
    # The SDK names its instance; a value that arrived is kept (else host.name would stand in).
    assert resource["service.instance.id"] == root.resource.attributes.get("service.instance.id", "vm-1")
    assert transaction["scope"]["attributes"] == {"service.framework.name": "io.shop.web", "service.framework.version": "3.1.0"}

    database = documents["SELECT orders"]["attributes"]
    assert database["processor.event"] == "span"
    assert (database["span.type"], database["span.subtype"]) == ("db", "postgresql")
    assert (database["service.target.type"], database["service.target.name"]) == ("postgresql", "shop")
    assert database["span.destination.service.resource"] == "postgresql"

    payment = documents["GET"]["attributes"]
    assert (payment["span.type"], payment["span.subtype"]) == ("external", "http")
    assert payment["service.target.name"] == "pay.example.com:8443"
    assert payment["event.outcome"] == "failure" and payment["event.success_count"] == 0

    # The exception event is a log document of its own, an error in the APM UI's terms.
    wait_until(lambda: osmem.count("logs-generic.otel-default") == 1, what="exception event document")
    (_, _, error), = osmem.documents("logs-*")
    assert error["attributes"]["processor.event"] == "error"
    assert error["attributes"]["error.grouping_key"] == hashlib.md5(b"ValueError").hexdigest()
    assert error["attributes"]["error.grouping_name"] == "card declined"
    assert len(error["attributes"]["error.id"]) == 32
    assert error["attributes"]["transaction.type"] == "request"


def send_transactions(url, service, count, failing_every):
    """`count` server transactions of `service`, every `failing_every`-th answered 500, and one
    log record per transaction, through OTLP/HTTP."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service, "deployment.environment": "prod"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("io.shop.web", "3.1.0")
    for index in range(count):
        status = 500 if index % failing_every == 0 else 200
        with tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER,
                                          attributes={"http.request.method": "GET", "http.response.status_code": status}):
            pass
    provider.shutdown()
    spans = memory.get_finished_spans()
    for start in range(0, len(spans), 100):
        body = encode_spans(spans[start:start + 100]).SerializeToString()
        response = requests.post(f"{url}/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=60)
        assert response.status_code == 200, response.text
    records = [LogRecord(time_unix_nano=1_700_000_000_000_000_000 + i, body=AnyValue(string_value=f"order {i}")) for i in range(count)]
    # The series the spans' records fall in (the processor named the spans' agent), so that both
    # pipelines add to the same connector series.
    resource = ResourceProto(attributes=[KeyValue(key=key, value=AnyValue(string_value=value)) for key, value in (
        ("service.name", service), ("deployment.environment", "prod"), ("telemetry.sdk.language", "python"),
        ("agent.name", "opentelemetry/python"))])
    logs = ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])])
    response = requests.post(f"{url}/v1/logs", data=logs.SerializeToString(), headers={"Content-Type": "application/x-protobuf"}, timeout=60)
    assert response.status_code == 200, response.text


def test_gateway_backend_behind_kafka_writes_enriched_spans_and_aggregated_metrics(tmp_path):
    """examples/backend-elastic-apm.yaml behind an edge and the embedded broker: 1,000
    transactions of two services, 5% failing, and their logs. The spans land enriched; the
    connector's windows, written at shutdown, count every transaction and its outcome."""
    kafka = KafkaDev(partitions=2)
    osmem = Osmem()
    edge_ports, backend_ports = new_ports(), new_ports()
    try:
        (tmp_path / "edge").mkdir()
        edge = Collector(tmp_path / "edge", f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{edge_ports['http']}
exporters:
  kafka:
    brokers: [{kafka.bootstrap}]
""" + service_section(edge_ports, """    traces:
      receivers: [otlp]
      exporters: [kafka]
    logs:
      receivers: [otlp]
      exporters: [kafka]
"""), **edge_ports).start()
        example = (ROOT / "examples" / "backend-elastic-apm.yaml").read_text()
        config = (example.replace("0.0.0.0:13133", f"127.0.0.1:{backend_ports['health']}")
                  .replace("  extensions: [health_check]\n", f"  extensions: [health_check]\n  telemetry:\n    metrics:\n      address: 127.0.0.1:{backend_ports['metrics']}\n"))
        (tmp_path / "backend").mkdir()
        backend = Collector(tmp_path / "backend", config, **backend_ports)
        backend.start(env=dict(os.environ, KAFKA_BROKERS=f"[{kafka.bootstrap}]", ES_ENDPOINTS=f"[{osmem.url}]"))
        url = f"http://127.0.0.1:{edge_ports['http']}"
        send_transactions(url, "cart", 600, failing_every=20)
        send_transactions(url, "payment", 400, failing_every=20)
        wait_until(lambda: osmem.count("traces-generic.otel-default") == 1000, timeout=60, what="1,000 span documents")
        wait_until(lambda: osmem.count("logs-generic.otel-default") == 1000, timeout=60, what="1,000 log documents")
        # The 1,000 log records went through the connector too: all its input is in before it stops.
        assert backend.stop() == 0, backend.log()
        edge.stop()

        spans = [source for _, _, source in osmem.documents("traces-*")]
        assert all(s["attributes"]["processor.event"] == "transaction" for s in spans)
        assert sum(1 for s in spans if s["attributes"]["event.outcome"] == "failure") == 30 + 20

        def windows(metricset, interval):
            """(service, metrics) of every document of the set and interval."""
            index = f"metrics-{metricset}.{interval}.otel-default"
            return [(source["resource"]["attributes"]["service.name"], source) for _, _, source in osmem.documents(index)]

        for interval in ("1m", "10m", "60m"):
            for service, total, failures in (("cart", 600, 30), ("payment", 400, 20)):
                documents = [d for s, d in windows("service_transaction", interval) if s == service]
                assert documents, f"no service_transaction {interval} document of {service}"
                assert sum(d["metrics"]["event.success_count"]["value_count"] for d in documents) == total
                assert sum(d["metrics"]["event.success_count"]["sum"] for d in documents) == total - failures
                assert sum(d["metrics"]["transaction.duration.summary"]["value_count"] for d in documents) == total
                assert all(d["_doc_count"] == d["metrics"]["transaction.duration.summary"]["value_count"] for d in documents)
                assert all(d["attributes"]["metricset.interval"] == interval and d["attributes"]["transaction.type"] == "request"
                           for d in documents)
                outcomes = {}
                for _, d in [w for w in windows("transaction", interval) if w[0] == service]:
                    outcome = d["attributes"]["event.outcome"]
                    outcomes[outcome] = outcomes.get(outcome, 0) + d["metrics"]["transaction.duration.summary"]["value_count"]
                assert outcomes == {"success": total - failures, "failure": failures}
                summaries = [d for s, d in windows("service_summary", interval) if s == service]
                # Every span and every log record, counted by one connector for both pipelines:
                # one document per window, as a time series data stream needs.
                assert sum(d["metrics"]["service_summary"] for d in summaries) == 2 * total
                window_ms = {"1m": 60_000, "10m": 600_000, "60m": 3_600_000}[interval]
                assert len(summaries) == len({d["@timestamp"] // window_ms for d in summaries})
    finally:
        kafka.stop()
        osmem.stop()
