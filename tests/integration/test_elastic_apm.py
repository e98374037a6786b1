"""The elasticapm processor in the whole binary: spans made by the OpenTelemetry Python SDK go
through OTLP/HTTP, the processor and the elasticsearch exporter into osmem-server (a real
OpenSearch-compatible server), and the documents carry the fields Kibana's APM UI reads."""
import hashlib

import requests
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from conftest import otlp_http_to, wait_until
from es_support import es_exporter_config


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
