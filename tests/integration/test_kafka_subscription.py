"""Subscriptions of the kafka receiver as Go writes them: a regular expression (`^otlp_spans_.*`)
with `exclude_topics`, followed to topics created after the collector started."""
import uuid

from confluent_kafka import Producer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from conftest import Collector, read_length_prefixed, service_section, wait_until
from kafka_support import KafkaDev

TOPIC = "otlp_spans"


def record(name):
    span = Span(trace_id=uuid.uuid4().bytes, span_id=uuid.uuid4().bytes[:8], name=name,
                start_time_unix_nano=1_700_000_000_000_000_000, end_time_unix_nano=1_700_000_000_100_000_000)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]).SerializeToString()


def span_names(path):
    if not path.exists():
        return []
    return [s.name for r in read_length_prefixed(path, ExportTraceServiceRequest)
            for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]


def backend(tmp_path, ports, bootstrap, receiver_extra="", topics=f'["{TOPIC}"]'):
    config = f"""
receivers:
  kafka:
    brokers: ["{bootstrap}"]
    group_id: mixed
    initial_offset: earliest
{receiver_extra}    traces:
      topics: {topics}
exporters:
  file:
    path: {tmp_path}/spans.out
    format: proto
""" + service_section(ports, """    traces:
      receivers: [kafka]
      exporters: [file]
""")
    return Collector(tmp_path, config, **ports).start()


def owned(collector, topic=TOPIC):
    """The partitions the collector consumes: its lag series, one per assigned partition."""
    return {k for k in collector.metrics() if k.startswith("otelcol_kafka_receiver_offset_lag{") and topic in k}


def test_a_regex_subscription_picks_up_a_topic_created_later_and_excludes_what_it_must(tmp_path, ports):
    kafka = KafkaDev(partitions=2, topics=("otlp_spans_a", "otlp_spans_test"))
    collector = None
    try:
        collector = backend(tmp_path, ports, kafka.bootstrap, receiver_extra="    metadata:\n      refresh_interval: 1s\n",
                            topics='["^otlp_spans_.*"]\n      exclude_topics: ["_test$"]')
        wait_until(lambda: owned(collector, "otlp_spans_a"), timeout=60, what="the first topic's partitions")
        producer = Producer({"bootstrap.servers": kafka.bootstrap})
        producer.produce("otlp_spans_a", record("from-a"))
        producer.produce("otlp_spans_test", record("from-test"))
        assert producer.flush(30) == 0
        wait_until(lambda: "from-a" in span_names(tmp_path / "spans.out"), timeout=60, what="the record of the first topic")
        # A topic made after start (the mock cluster creates it on first produce).
        producer.produce("otlp_spans_b", record("from-b"))
        assert producer.flush(30) == 0
        wait_until(lambda: owned(collector, "otlp_spans_b"), timeout=60, what="the new topic's partitions")
        producer.produce("otlp_spans_b", record("from-b-2"))
        assert producer.flush(30) == 0
        wait_until(lambda: {"from-b", "from-b-2"} <= set(span_names(tmp_path / "spans.out")), timeout=60, what="the new topic's records")
        assert "from-test" not in span_names(tmp_path / "spans.out")
        assert not owned(collector, "otlp_spans_test")
        assert "subscribing to otlp_spans_a, otlp_spans_b" in collector.log()
    finally:
        if collector:
            collector.stop()
        kafka.stop()
