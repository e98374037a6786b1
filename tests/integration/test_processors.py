"""filter, transform, attributes and resource from YAML, through the real binary, with spans and
logs sent by the OpenTelemetry Python SDK."""
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import collector_config, read_length_prefixed, wait_until

PROCESSORS = """
  filter/health:
    traces:
      span:
        - attributes["http.route"] == "/health"
  transform:
    trace_statements:
      - context: span
        statements:
          - set(attributes["route.length"], Len(attributes["http.route"]))
          - replace_pattern(attributes["user.email"], "^[^@]+", "***")
  attributes:
    actions:
      - {key: tier, action: insert, value: backend}
  resource:
    attributes:
      - {key: deployment.environment, action: upsert, value: test}
"""


def test_processors_from_yaml_change_what_reaches_the_exporter(make_collector, ports, tmp_path):
    collector = make_collector(processors="[filter/health, transform, attributes, resource]", extra_processors=PROCESSORS)
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for route in ["/health", "/orders", "/health", "/cart"]:
        with tracer.start_as_current_span(f"GET {route}", attributes={"http.route": route, "user.email": "ann@example.com"}):
            pass
    provider.shutdown()
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
    assert exporter.export(memory.get_finished_spans()).name == "SUCCESS"
    out = tmp_path / "traces.out"
    wait_until(lambda: out.exists() and out.stat().st_size > 0, what="exported spans")
    spans = [(rs.resource, s) for m in read_length_prefixed(out, ExportTraceServiceRequest)
             for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sorted(s.name for _, s in spans) == ["GET /cart", "GET /orders"]
    for resource, span in spans:
        attributes = {a.key: a.value for a in span.attributes}
        assert attributes["route.length"].int_value == len(attributes["http.route"].string_value)
        assert attributes["user.email"].string_value == "***@example.com"
        assert attributes["tier"].string_value == "backend"
        assert {a.key: a.value.string_value for a in resource.attributes}["deployment.environment"] == "test"
    assert collector.metrics()['otelcol_processor_filter_spans_filtered_total{filter="filter/health"}'] == 2


def test_an_invalid_statement_fails_validation_with_its_key_path(tmp_path, ports):
    import subprocess
    from conftest import BINARY
    config = tmp_path / "bad.yaml"
    config.write_text(collector_config(ports, tmp_path, processors="[transform]", extra_processors="""
  transform:
    log_statements:
      - context: log
        statements:
          - set(attributes["a"], Concat(["x"]))
"""))
    result = subprocess.run([str(BINARY), "validate", "--config", str(config)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "processors.transform.log_statements[0].statements[0]" in result.stdout + result.stderr
    assert "Concat takes 2 arguments, got 1" in result.stdout + result.stderr
