"""Bad input gets its exact status and message, and the server keeps serving other clients."""
import gzip
import json

import grpc
import pytest
import requests
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from conftest import read_length_prefixed

LIMIT = 64 * 1024


def one_span_request(name="ok") -> bytes:
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
        Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name=name, start_time_unix_nano=1, end_time_unix_nano=2)])])])
    return request.SerializeToString()


@pytest.fixture
def collector(make_collector):
    return make_collector(http_extra=f"        max_request_body_size: {LIMIT}", grpc_extra="        max_recv_msg_size_mib: 1")


def post(ports, body, content_type="application/x-protobuf", path="/v1/traces", **headers):
    return requests.post(f"http://127.0.0.1:{ports['http']}{path}", data=body,
                         headers={"Content-Type": content_type, **headers}, timeout=10)


def status_message(response) -> str:
    status = Status()
    status.ParseFromString(response.content)
    return status.message


def test_http_bad_inputs(collector, ports, tmp_path):
    valid = one_span_request()
    cases = [
        # (description, response, status, message or None)
        ("truncated protobuf", post(ports, valid[:-5]), 400,
         f"invalid protobuf: length {len(valid) - 2} at offset 1 runs past the end of its message"),
        ("wrong wire type", post(ports, b"\x08\x01"), 400,
         "invalid protobuf: field 1 of ExportTraceServiceRequest has wire type varint, expected length-delimited"),
        ("gzip bomb", post(ports, gzip.compress(b"\x00" * (LIMIT * 4)), **{"Content-Encoding": "gzip"}), 413,
         f"request body is larger than the limit of {LIMIT} bytes after decompression"),
        ("corrupt gzip", post(ports, b"not gzip at all", **{"Content-Encoding": "gzip"}), 400, None),
        ("unknown encoding", post(ports, valid, **{"Content-Encoding": "br"}), 400,
         'unsupported Content-Encoding "br"; supported: gzip, deflate, zstd'),
    ]
    for description, response, status, message in cases:
        assert response.status_code == status, description
        assert response.headers["Content-Type"] == "application/x-protobuf", description
        if message:
            assert status_message(response) == message, description

    oversize = post(ports, b"\x00" * (LIMIT + 1))
    assert oversize.status_code == 413
    assert oversize.text == f"request body is larger than the limit of {LIMIT} bytes"

    wrong_type = post(ports, valid, content_type="text/plain")
    assert wrong_type.status_code == 415
    assert "unsupported media type" in wrong_type.text

    unknown_path = post(ports, valid, path="/v1/spans")
    assert unknown_path.status_code == 404

    assert requests.get(f"http://127.0.0.1:{ports['http']}/v1/traces", timeout=5).status_code == 405

    invalid_json = post(ports, b'{"resourceSpans": [', content_type="application/json")
    assert invalid_json.status_code == 400
    assert invalid_json.headers["Content-Type"] == "application/json"
    assert json.loads(invalid_json.text)["message"].startswith("invalid JSON")

    bad_id = post(ports, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}', content_type="application/json")
    assert bad_id.status_code == 400
    assert json.loads(bad_id.text)["message"] == 'invalid JSON: traceId must be 32 hex characters, got "xyz"'

    empty_json = post(ports, b"", content_type="application/json")
    assert empty_json.status_code == 400

    # An empty protobuf body is a valid, empty export request (the spec says to accept it).
    empty_proto = post(ports, b"")
    assert empty_proto.status_code == 200

    # Still serving: a valid request through every encoding is accepted and written.
    assert post(ports, valid).status_code == 200
    assert post(ports, gzip.compress(one_span_request("gz")), **{"Content-Encoding": "gzip"}).status_code == 200
    ok_json = post(ports, json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "json"}]}]}]}),
        content_type="application/json")
    assert ok_json.status_code == 200
    assert ok_json.json() == {}
    written = read_length_prefixed(tmp_path / "traces.out", ExportTraceServiceRequest)
    names = [s.name for m in written for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sorted(names) == ["gz", "json", "ok"]
    assert written[-1].resource_spans[0].scope_spans[0].spans[0].trace_id.hex() in ("5b8efff798038103d269b633813fc60c", "01" * 16)


def test_grpc_bad_inputs(collector, ports, tmp_path):
    channel = grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}")
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                 request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as truncated:
        export(one_span_request()[:-5], timeout=10)
    assert truncated.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    length = len(one_span_request()) - 2
    assert truncated.value.details() == f"invalid protobuf: length {length} at offset 1 runs past the end of its message"

    with pytest.raises(grpc.RpcError) as oversize:
        export(b"\x00" * (1536 * 1024), timeout=10)
    assert oversize.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert oversize.value.details() == f"message of {1536 * 1024} bytes is larger than max_recv_msg_size_mib ({1024 * 1024} bytes)"

    with pytest.raises(grpc.RpcError) as unknown:
        channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Nope",
                            request_serializer=lambda b: b, response_deserializer=lambda b: b)(b"", timeout=10)
    assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED

    assert export(one_span_request("after-errors"), timeout=10) == b""
    written = read_length_prefixed(tmp_path / "traces.out", ExportTraceServiceRequest)
    assert [s.name for m in written for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans] == ["after-errors"]
    channel.close()
