"""Subscriptions and group membership of the kafka receiver as Go runs them: a regular expression
(`^otlp_spans_.*`) with `exclude_topics`, followed to topics created after the collector started;
and one cooperative-sticky consumer group (franz-go's default protocol) shared with another
client's members, keeping the acknowledged-delivery rule through incremental rebalances."""
import threading
import time
import uuid
from collections import Counter

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from conftest import Collector, new_ports, read_length_prefixed, service_section, wait_until
from kafka_support import KafkaDev

TOPIC = "otlp_spans"
PARTITIONS = 8


def record(name):
    span = Span(trace_id=uuid.uuid4().bytes, span_id=uuid.uuid4().bytes[:8], name=name,
                start_time_unix_nano=1_700_000_000_000_000_000, end_time_unix_nano=1_700_000_000_100_000_000)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]).SerializeToString()


def span_names(path):
    if not path.exists():
        return []
    return [s.name for r in read_length_prefixed(path, ExportTraceServiceRequest, while_writing=True)
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


def partitions(collector):
    return {int(k.split('partition="')[1].split('"')[0]) for k in owned(collector)}


class Load:
    """Records `span-N` produced round-robin over the partitions, about 500 a second, until
    `finish`."""

    def __init__(self, bootstrap):
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
        self.sent, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        n = 0
        while not self.stop.is_set():
            name = f"span-{n}"
            self.producer.produce(TOPIC, record(name), partition=n % PARTITIONS)
            self.sent.append(name)
            n += 1
            if n % 50 == 0:
                self.producer.poll(0)
                time.sleep(0.1)

    def finish(self):
        self.stop.set()
        self.thread.join()
        assert self.producer.flush(30) == 0
        return self.sent


class GoLikeMember:
    """A confluent-kafka consumer in the group with cooperative-sticky, the protocol Go backends
    join with; it commits each record before taking the next, and counts only what it committed.

    Its session timeout is ours (and Go's) default, 10 s: the embedded broker keeps one session
    timeout per group, the last joiner's, and while a rebalance waits for members (one second less
    than that timeout) it expires members that joined with a longer one — a real broker does not."""

    def __init__(self, bootstrap):
        self.names, self.stop, self.assigned = [], threading.Event(), set()
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "mixed", "auto.offset.reset": "earliest",
                                  "enable.auto.commit": False, "partition.assignment.strategy": "cooperative-sticky",
                                  "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
        self.consumer.subscribe([TOPIC], on_assign=self._assign, on_revoke=self._revoke)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _assign(self, consumer, partitions):
        self.assigned |= {p.partition for p in partitions}

    def _revoke(self, consumer, partitions):
        self.assigned -= {p.partition for p in partitions}

    def _run(self):
        while not self.stop.is_set():
            message = self.consumer.poll(0.1)
            if message is None or message.error():
                continue
            request = ExportTraceServiceRequest()
            request.ParseFromString(message.value())
            try:
                self.consumer.commit(message=message, asynchronous=False)
            except KafkaException:
                # Refused during a rebalance: not this member's yet. It reads the record again if
                # it keeps the partition; otherwise the next owner reads it from the commit.
                try:
                    self.consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
                except KafkaException:
                    pass
                continue
            self.names.append(request.resource_spans[0].scope_spans[0].spans[0].name)

    def leave(self):
        if self.stop.is_set():
            return
        self.stop.set()
        self.thread.join(timeout=30)
        self.consumer.close()


def test_a_mixed_cooperative_group_shares_partitions_and_our_side_loses_and_repeats_nothing(tmp_path, ports):
    kafka = KafkaDev(partitions=PARTITIONS, topics=(TOPIC,))
    theirs = GoLikeMember(kafka.bootstrap)
    first = tmp_path / "first"
    second = tmp_path / "second"
    first.mkdir()
    second.mkdir()
    ours = []
    try:
        wait_until(lambda: len(theirs.assigned) == PARTITIONS, timeout=60, what="the Go-like member owning every partition")
        ours.append(backend(first, ports, kafka.bootstrap))
        assert "(cooperative-sticky)" in ours[0].log()
        # An incremental rebalance: the member keeps half and gives up the rest, which we take.
        wait_until(lambda: len(owned(ours[0])) == PARTITIONS // 2 and len(theirs.assigned) == PARTITIONS // 2, timeout=60,
                   what="the partitions split between the members")
        assert not theirs.assigned & partitions(ours[0])

        load = Load(kafka.bootstrap)
        wait_until(lambda: len(span_names(first / "spans.out")) > 200, timeout=60, what="our backend consuming under load")
        # Under load our member leaves (its partitions move to the other member) and rejoins.
        ours[0].stop()
        wait_until(lambda: len(theirs.assigned) == PARTITIONS, timeout=60, what="the other member taking every partition")
        ours.append(backend(second, ports, kafka.bootstrap))
        wait_until(lambda: len(owned(ours[1])) == PARTITIONS // 2, timeout=60, what="our rejoined member's partitions")
        wait_until(lambda: len(span_names(second / "spans.out")) > 200, timeout=60, what="the rejoined member consuming")
        sent = load.finish()

        def ours_names():
            return span_names(first / "spans.out") + span_names(second / "spans.out")
        wait_until(lambda: len(set(ours_names()) | set(theirs.names)) >= len(sent), timeout=120, interval=1,
                   what=f"all {len(sent)} records consumed by the group")
        mine = ours_names()
        assert len(mine) == len(set(mine)), f"our backend delivered {len(mine) - len(set(mine))} records twice"
        assert not set(mine) & set(theirs.names), "a record was consumed by both members"
        assert set(mine) | set(theirs.names) == set(sent)
        assert len(theirs.names) == len(set(theirs.names))
    finally:
        for collector in ours:
            collector.stop()
        theirs.leave()
        kafka.stop()


def test_a_member_of_ours_leading_the_group_hands_partitions_to_a_joining_member_and_takes_them_back(tmp_path, ports):
    """Our member leads (it joined first), so it runs both rounds of the incremental rebalance:
    it revokes half its partitions after committing what it finished, rejoins, and assigns them
    to the new member; when that member leaves, it takes them back. No record is consumed by
    both, none is lost; should the broker refuse the commit at the handover, the log says so and
    only the handed-over partitions repeat records."""
    kafka = KafkaDev(partitions=PARTITIONS, topics=(TOPIC,))
    ours = theirs = None
    try:
        ours = backend(tmp_path, ports, kafka.bootstrap)
        wait_until(lambda: len(owned(ours)) == PARTITIONS, timeout=60, what="our member owning every partition")
        load = Load(kafka.bootstrap)
        wait_until(lambda: len(span_names(tmp_path / "spans.out")) > 200, timeout=60, what="our backend consuming under load")
        theirs = GoLikeMember(kafka.bootstrap)
        wait_until(lambda: len(theirs.assigned) == PARTITIONS // 2 and len(owned(ours)) == PARTITIONS // 2, timeout=90,
                   what="the partitions split between the members")
        handed = set(theirs.assigned)
        assert not handed & partitions(ours)
        wait_until(lambda: len(theirs.names) > 100, timeout=60, what="the joined member consuming")
        theirs.leave()
        wait_until(lambda: len(owned(ours)) == PARTITIONS, timeout=90, what="our member taking every partition back")
        sent = load.finish()
        wait_until(lambda: len(set(span_names(tmp_path / "spans.out")) | set(theirs.names)) >= len(sent), timeout=120, interval=1,
                   what=f"all {len(sent)} records consumed by the group")
        mine = span_names(tmp_path / "spans.out")
        assert set(mine) | set(theirs.names) == set(sent)
        if "partitions revoked without their offsets committed" in ours.log():
            # The mock broker answers a follower's SyncGroup that comes after the leader's with
            # REBALANCE_IN_PROGRESS, and rebalances again; until that is over it refuses commits
            # (a real broker takes them from the current generation). The handed-over partitions
            # then restart from their last commit: records repeat there, and only there.
            repeated = {name for name, count in Counter(mine + theirs.names).items() if count > 1}
            assert {int(name.split("-")[1]) % PARTITIONS for name in repeated} <= handed
        else:
            assert len(mine) == len(set(mine)), f"our backend delivered {len(mine) - len(set(mine))} records twice"
            assert not set(mine) & set(theirs.names), "a record was consumed by both members"
    finally:
        if ours:
            ours.stop()
        if theirs:
            theirs.leave()
        kafka.stop()
