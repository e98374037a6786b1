"""Tail sampling across the tiers: an edge partitioning by trace id, a broker, and two backends in
one consumer group each deciding on whole traces."""
import os

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from conftest import Collector, new_ports, read_length_prefixed, service_section, wait_until
from kafka_support import KafkaDev
from test_kafka_exporter import edge_config


def backend_config(ports, bootstrap, out):
    return f"""
receivers:
  kafka:
    brokers: [{bootstrap}]
    group_id: samplers
    initial_offset: earliest
processors:
  tail_sampling:
    decision_wait: 1s
    policies:
      - {{name: errors, type: status_code, status_code: {{status_codes: [ERROR]}}}}
      - {{name: slow, type: latency, latency: {{threshold_ms: 500}}}}
exporters:
  file:
    path: {out}/traces.out
    format: proto
""" + service_section(ports, """    traces:
      receivers: [kafka]
      processors: [tail_sampling]
      exporters: [file]
""")


def make_traces():
    """60 traces of 4 spans: 20 with an error span, 20 lasting 800 ms, 20 fast and fine."""
    traces = []
    for i in range(60):
        trace_id = os.urandom(16)
        kind = ("error", "slow", "fine")[i % 3]
        spans = []
        for n in range(4):
            start = 1_700_000_000_000_000_000 + n * 1_000_000
            end = start + (800_000_000 if kind == "slow" and n == 0 else 5_000_000)
            status = Status(code=Status.STATUS_CODE_ERROR) if kind == "error" and n == 3 else Status()
            spans.append(Span(trace_id=trace_id, span_id=os.urandom(8), name=f"{kind}-{n}", start_time_unix_nano=start,
                              end_time_unix_nano=end, status=status))
        traces.append((trace_id, kind, spans))
    return traces


def request(spans):
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="shop"))]),
        scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()


def written(path):
    if not path.exists():
        return []
    return [s for m in read_length_prefixed(path, ExportTraceServiceRequest, while_writing=True)
            for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans]


def assigned(collector):
    return {k for k in collector.metrics() if k.startswith("otelcol_kafka_receiver_offset_lag{")}


def test_two_backends_keep_whole_error_and_slow_traces_only(tmp_path):
    kafka = KafkaDev(partitions=4, topics=("otlp_spans",))
    started = []
    try:
        edge_ports = new_ports()
        (tmp_path / "edge").mkdir()
        started.append(Collector(tmp_path / "edge", edge_config(edge_ports, kafka.bootstrap, "    partition_traces_by_id: true"),
                                 **edge_ports).start())
        outputs = []
        for name in ("a", "b"):
            out = tmp_path / name
            out.mkdir()
            ports = new_ports()
            started.append(Collector(out, backend_config(ports, kafka.bootstrap, out), **ports).start())
            outputs.append(out / "traces.out")
        backends = started[1:]
        # Both members must own their partitions before traces flow, or a rebalance could split one.
        wait_until(lambda: all(len(assigned(b)) == 2 for b in backends), timeout=60, what="two partitions per backend")

        traces = make_traces()
        url = f"http://127.0.0.1:{edge_ports['http']}/v1/traces"
        headers = {"Content-Type": "application/x-protobuf"}
        # Each trace arrives in two requests, so a backend sees it in parts.
        for half in (slice(0, 2), slice(2, 4)):
            for start in range(0, 60, 10):
                body = request([s for _, _, spans in traces[start:start + 10] for s in spans[half]])
                assert requests.post(url, data=body, headers=headers, timeout=30).status_code == 200

        kept = {tid for tid, kind, _ in traces if kind != "fine"}
        everything = lambda: written(outputs[0]) + written(outputs[1])
        wait_until(lambda: len(everything()) >= len(kept) * 4, timeout=60, what="the kept traces written")
        spans = everything()
        by_trace = {}
        for span in spans:
            by_trace.setdefault(span.trace_id, []).append(span.name)
        assert set(by_trace) == kept, "exactly the error and slow traces are kept"
        for names in by_trace.values():
            kind = names[0].split("-")[0]
            assert sorted(names) == [f"{kind}-{i}" for i in range(4)], "every kept trace is complete, each span once"
        assert all(written(out) for out in outputs), "both backends decided traces"
        assert not set(s.trace_id for s in written(outputs[0])) & set(s.trace_id for s in written(outputs[1])), \
            "a trace is decided by one backend only"
    finally:
        for collector in started:
            collector.stop()
        kafka.stop()
