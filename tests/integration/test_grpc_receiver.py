"""The OTLP/gRPC receiver with grpcio as the client: compression, messages larger than HTTP/2's
flow-control windows, many calls in flight on one connection, and a graceful stop."""
import threading

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from conftest import read_length_prefixed, stop_under_load

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def request(prefix, spans, pad=0) -> bytes:
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
        Span(trace_id=b"\x01" * 16, span_id=i.to_bytes(8, "big"), name=f"{prefix}-{i}",
             attributes=[KeyValue(key="pad", value=AnyValue(string_value=f"{i}" + "x" * pad))])
        for i in range(spans)])])]).SerializeToString()


def written_names(tmp_path):
    messages = read_length_prefixed(tmp_path / "traces.out", ExportTraceServiceRequest)
    return [s.name for m in messages for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans]


def export_stub(channel):
    return channel.unary_unary(EXPORT, request_serializer=lambda b: b, response_deserializer=lambda b: b)


def test_compressed_large_and_concurrent_calls(make_collector, ports, tmp_path):
    make_collector(grpc_extra="        max_recv_msg_size_mib: 16")
    # 5 MB: larger than the 1 MiB stream window and the connection's initial 64 KiB, so the call
    # completes only if the receiver returns flow-control credit while reading.
    large = request("large", 2000, pad=2500)
    assert len(large) > 5_000_000
    with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
        export = export_stub(channel)
        assert export(large, timeout=30) == b""
        assert export(request("gzip", 500, pad=2000), timeout=30, compression=grpc.Compression.Gzip) == b""
        assert export(request("deflate", 3), timeout=30, compression=grpc.Compression.Deflate) == b""
        # 200 calls in flight on the one connection.
        futures = [export.future(request(f"c{n}", 10, pad=100), timeout=60) for n in range(200)]
        assert [f.result() for f in futures] == [b""] * 200
    names = written_names(tmp_path)
    assert len(names) == 2000 + 500 + 3 + 2000
    assert sorted(n for n in names if n.startswith("large-")) == sorted(f"large-{i}" for i in range(2000))
    assert sorted(n for n in names if n.startswith("gzip-")) == sorted(f"gzip-{i}" for i in range(500))
    assert sorted(n for n in names if n.startswith("c")) == sorted(f"c{n}-{i}" for n in range(200) for i in range(10))


def test_limits_apply_to_decompressed_messages(make_collector, ports):
    make_collector(grpc_extra="        max_recv_msg_size_mib: 1")
    with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
        export = export_stub(channel)
        # Compresses to far less than 1 MiB, decompresses to more.
        body = request("big", 1000, pad=2000)
        assert len(body) > 1024 * 1024
        try:
            export(body, timeout=30, compression=grpc.Compression.Gzip)
            raise AssertionError("an oversize message was accepted")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert error.details() == f"decompressed message is larger than max_recv_msg_size_mib ({1024 * 1024} bytes)"
        # The connection stays usable.
        assert export(request("after", 2), timeout=30) == b""


def test_sigterm_answers_calls_in_flight(make_collector, ports, tmp_path):
    collector = make_collector()
    acknowledged, failed = [], []
    stop = threading.Event()

    def sender(worker):
        with grpc.insecure_channel(f"127.0.0.1:{ports['grpc']}") as channel:
            export = export_stub(channel)
            n = 0
            while not stop.is_set():
                try:
                    export(request(f"w{worker}-{n}", 5), timeout=10)
                    acknowledged.extend(f"w{worker}-{n}-{i}" for i in range(5))
                except grpc.RpcError as error:
                    failed.append(error.code())
                    break
                n += 1

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    stop_under_load(collector, acknowledged, threads, stop, lambda: written_names(tmp_path))
    assert all(code == grpc.StatusCode.UNAVAILABLE for code in failed)
