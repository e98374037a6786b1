"""The forward connector through the real binary: spans an OTLP client sends (requests, OTLP/HTTP
protobuf) reach every pipeline the connector feeds, each with its own processing, and the client
is answered for all of them — an export that one of those pipelines cannot deliver fails back to
the client as "retry later"."""
import requests
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from conftest import free_port, read_length_prefixed, service_section
from test_kafka_exporter import make_traces


def forward_config(ports, out, second_exporter):
    return f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{ports['http']}
processors:
  attributes:
    actions: [{{key: copy, value: b, action: insert}}]
exporters:
  file/a:
    path: {out}/a.pb
    format: proto
{second_exporter}
connectors:
  forward:
""" + service_section(ports, """    traces/in:
      receivers: [otlp]
      exporters: [forward]
    traces/a:
      receivers: [forward]
      exporters: [file/a]
    traces/b:
      receivers: [forward]
      processors: [attributes]
      exporters: [second]
""")


def post(ports, spans):
    return requests.post(f"http://127.0.0.1:{ports['http']}/v1/traces", data=encode_spans(spans).SerializeToString(),
                         headers={"Content-Type": "application/x-protobuf"}, timeout=30)


def spans_in(path):
    return [span for request in read_length_prefixed(path, ExportTraceServiceRequest)
            for resource in request.resource_spans for scope in resource.scope_spans for span in scope.spans]


def test_forward_feeds_every_pipeline_with_its_own_processing(make_collector, ports, tmp_path):
    second = f"""  file/second:
    path: {tmp_path}/b.pb
    format: proto"""
    make_collector(config=forward_config(ports, tmp_path, second).replace("exporters: [second]", "exporters: [file/second]"))
    spans = make_traces(traces=4, children=2)
    assert post(ports, spans).status_code == 200
    a, b = spans_in(tmp_path / "a.pb"), spans_in(tmp_path / "b.pb")
    expected = sorted(format(s.context.span_id, "016x") for s in spans)
    assert sorted(s.span_id.hex() for s in a) == expected
    assert sorted(s.span_id.hex() for s in b) == expected
    # Only the pipeline with the attributes processor changed its copy.
    assert all(any(kv.key == "copy" for kv in s.attributes) for s in b)
    assert not any(kv.key == "copy" for s in a for kv in s.attributes)


def test_a_pipeline_behind_forward_that_cannot_deliver_fails_the_export(make_collector, ports, tmp_path):
    second = f"""  otlphttp:
    endpoint: http://127.0.0.1:{free_port()}
    sending_queue: {{enabled: false}}
    retry_on_failure: {{enabled: false}}"""
    make_collector(config=forward_config(ports, tmp_path, second).replace("exporters: [second]", "exporters: [otlphttp]"))
    answer = post(ports, make_traces(traces=1, children=1))
    assert answer.status_code == 503, answer.text
    assert "cannot reach" in answer.text, answer.text
