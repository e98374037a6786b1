"""Overload answers "retry later" and keeps memory bounded; SIGTERM loses nothing acknowledged."""
import subprocess
import threading
import time

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from conftest import BINARY, read_length_prefixed, stop_under_load

SEQ = "telemetrygen.seq"


def request_with_seq(first: int, count: int, padding: int = 0) -> bytes:
    spans = [Span(trace_id=(first + i + 1).to_bytes(16, "big"), span_id=b"\x01" * 8, name="s",
                  attributes=[KeyValue(key=SEQ, value=AnyValue(int_value=first + i)),
                              KeyValue(key="pad", value=AnyValue(string_value="x" * padding))])
             for i in range(count)]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()


def sequences(path):
    return [a.value.int_value for m in read_length_prefixed(path, ExportTraceServiceRequest)
            for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans for a in s.attributes if a.key == SEQ]


def peak_rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_memory_limit_answers_503_and_data_is_never_lost(make_collector, ports, tmp_path):
    # A soft limit far below what the process needs just to run: every request is refused,
    # retryably, and nothing reaches the exporter.
    collector = make_collector(processors="[memory_limiter, batch]", extra_processors="""  memory_limiter:
    check_interval: 100ms
    limit_mib: 8
    spike_limit_mib: 2""")
    url = f"http://127.0.0.1:{ports['http']}/v1/traces"
    refused = requests.post(url, data=request_with_seq(0, 10), headers={"Content-Type": "application/x-protobuf"}, timeout=10)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert b"data refused due to high memory usage" in refused.content
    values = collector.metrics()
    assert values['otelcol_receiver_refused_spans_total{receiver="otlp",transport="http"}'] == 10
    assert values['otelcol_processor_memory_limiter_refused_spans_total{processor="memory_limiter"}'] == 10
    assert not (tmp_path / "traces.out").read_bytes()


def test_overload_keeps_memory_bounded_and_every_accepted_item_is_written(make_collector, ports, tmp_path):
    """Many concurrent clients with large requests, held by a batch processor that waits a second
    before exporting (a slow pipeline), against a limit a little above the idle footprint: some
    requests are refused with 503, clients retry, every item ends up written exactly once, and
    peak resident memory stays under the hard limit plus a stated margin."""
    limit_mib, margin_mib = 96, 64
    collector = make_collector(processors="[memory_limiter, batch/slow]", extra_processors=f"""  memory_limiter:
    check_interval: 20ms
    limit_mib: {limit_mib}
    spike_limit_mib: 32
  batch/slow:
    send_batch_size: 1000000
    timeout: 1s""")
    url = f"http://127.0.0.1:{ports['http']}/v1/traces"
    per_request, requests_per_worker, workers = 200, 5, 16
    statuses = []
    lock = threading.Lock()

    def worker(index: int):
        session = requests.Session()
        for r in range(requests_per_worker):
            first = (index * requests_per_worker + r) * per_request
            body = request_with_seq(first, per_request, padding=10_000)
            # A client that honours "retry later" with capped exponential backoff, as OTLP asks.
            deadline, backoff = time.monotonic() + 120, 0.05
            while time.monotonic() < deadline:
                response = session.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=30)
                with lock:
                    statuses.append(response.status_code)
                if response.status_code == 200:
                    break
                assert response.status_code == 503
                time.sleep(backoff)
                backoff = min(backoff * 2, 0.5)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = per_request * requests_per_worker * workers
    assert statuses.count(200) == requests_per_worker * workers
    seqs = sequences(tmp_path / "traces.out")
    assert len(seqs) == total, "duplicates or losses"
    assert sorted(seqs) == list(range(total))
    peak = peak_rss_mib(collector.process.pid)
    print(f"peak RSS {peak:.0f} MiB, refused requests {statuses.count(503)}")
    assert statuses.count(503) > 0, "the limit was never reached: the test did not test overload"
    assert peak < limit_mib + margin_mib


def test_sigterm_during_load_keeps_every_acknowledged_request(make_collector, ports, tmp_path):
    collector = make_collector()
    url = f"http://127.0.0.1:{ports['http']}/v1/traces"
    acknowledged = []
    stop = threading.Event()

    def sender():
        session = requests.Session()
        seq = 0
        while not stop.is_set():
            try:
                response = session.post(url, data=request_with_seq(seq, 20), headers={"Content-Type": "application/x-protobuf"}, timeout=10)
            except requests.RequestException:
                break
            if response.status_code == 200:
                acknowledged.extend(range(seq, seq + 20))
            seq += 20

    stop_under_load(collector, acknowledged, [threading.Thread(target=sender)], stop, lambda: sequences(tmp_path / "traces.out"))
    assert "shutdown complete" in collector.log()


def test_validate_reports_errors_with_file_and_path(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpont: x\nexporters:\n  debug:\n"
                      "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n")
    result = subprocess.run([str(BINARY), "validate", "--config", str(config)], capture_output=True, text=True)
    assert result.returncode == 1
    assert f'error: {config}: receivers.otlp.protocols.grpc.endpont: unknown key "endpont" (did you mean "endpoint"?)' in result.stderr
