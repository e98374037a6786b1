"""The elasticsearch exporter against osmem-server (a real OpenSearch-compatible server), directly
and through a proxy that scripts failures or answers as Elasticsearch would."""
import requests
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

from conftest import otlp_http_to, wait_until
from es_support import ELASTICSEARCH_9, BulkProxy, es_exporter_config
from test_sdk_roundtrip import make_spans

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def proxy(osmem):
    front = BulkProxy(osmem.url)
    yield front
    front.stop()


def es_config(ports, url, extra="", max_retries=2):
    """The exporter's outcome reaches the client (wait_for_result), so each test reads the
    exporter's answer in the receiver's reply."""
    queue = "    sending_queue:\n      wait_for_result: true\n"
    return otlp_http_to(ports, es_exporter_config(url, queue + extra, max_retries), "elasticsearch", ("traces", "metrics", "logs"))


def post(ports, signal, body):
    return requests.post(f"http://127.0.0.1:{ports['http']}/v1/{signal}", data=body, headers=PROTOBUF, timeout=60)


def logs_request(values, key="n"):
    """One log record per value, with the value in attribute `key`."""
    records = [LogRecord(time_unix_nano=1_700_000_000_000_000_000 + i, body=AnyValue(string_value=f"line {i}"),
                         attributes=[KeyValue(key=key, value=value)]) for i, value in enumerate(values)]
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=records)])]).SerializeToString()


def int_values(count):
    return [AnyValue(int_value=i) for i in range(count)]


def test_sdk_spans_become_otel_documents(make_collector, ports, osmem):
    spans = make_spans()
    make_collector(es_config(ports, osmem.url))
    assert post(ports, "traces", encode_spans(spans).SerializeToString()).status_code == 200
    wait_until(lambda: osmem.count("traces-generic.otel-default") == len(spans), what="span documents")
    documents = {source["name"]: (index, source) for index, _, source in osmem.documents("traces-*")}
    root = next(s for s in spans if s.name == "root")
    index, document = documents["root"]
    assert index == "traces-generic.otel-default"
    assert document["trace_id"] == format(root.context.trace_id, "032x")
    assert document["span_id"] == format(root.context.span_id, "016x")
    assert document["kind"] == "Server"
    assert document["duration"] == root.end_time - root.start_time
    assert document["status"] == {"code": "Ok"}
    assert document["attributes"]["int"] == -42 and document["attributes"]["strs"] == ["x", "y"]
    assert document["resource"]["attributes"]["service.name"] == "checkout"
    assert document["scope"] == {"name": "shop.cart", "version": "2.1.0", "attributes": {"scope.attr": "s"}}
    assert document["data_stream"] == {"type": "traces", "dataset": "generic.otel", "namespace": "default"}
    child = documents["child"][1]
    assert child["parent_span_id"] == document["span_id"]
    assert child["status"] == {"code": "Error", "message": "payment declined"}
    assert child["links"][0]["span_id"] == document["span_id"]
    # The span event is a log document of its own.
    wait_until(lambda: osmem.count("logs-generic.otel-default") == 1, what="span event document")
    (_, _, event), = osmem.documents("logs-*")
    assert event["event_name"] == "cache.miss" and event["attributes"]["event.name"] == "cache.miss"
    assert event["span_id"] == document["span_id"]


def test_a_redelivered_request_creates_no_duplicates(make_collector, ports, osmem):
    collector = make_collector(es_config(ports, osmem.url))
    body = logs_request(int_values(50))
    for _ in range(3):
        assert post(ports, "logs", body).status_code == 200
    wait_until(lambda: osmem.count("logs-*") == 50, what="50 log documents")
    assert sorted(source["attributes"]["n"] for _, _, source in osmem.documents("logs-*")) == list(range(50))
    # The repeats were answered 409 (already stored), which counts as delivered, not as a failure.
    metrics = collector.metrics()
    assert metrics['otelcol_exporter_sent_log_records_total{exporter="elasticsearch"}'] == 150
    assert not any(k.startswith("otelcol_dropped_items_total") for k in metrics)


def test_items_answered_429_are_retried_until_stored(make_collector, ports, proxy, osmem):
    collector = make_collector(es_config(ports, proxy.url))
    proxy.item_statuses = {1: 429, 3: 429, 4: 503}
    assert post(ports, "logs", logs_request(int_values(6))).status_code == 200
    assert osmem.count("logs-*") == 6
    bulks = proxy.bulk_requests()
    assert [len(b["actions"]) for b in bulks] == [6, 3]
    assert collector.metrics()['otelcol_elasticsearch_docs_retried_total{exporter="elasticsearch"}'] == 3


def test_documents_rejected_for_good_are_counted_and_reported(make_collector, ports, osmem):
    collector = make_collector(es_config(ports, osmem.url))
    # The second value conflicts with the first's mapping (long): only that record is refused.
    values = [AnyValue(int_value=5), AnyValue(string_value="abc"), AnyValue(int_value=7)]
    response = post(ports, "logs", logs_request(values))
    assert response.status_code == 400
    assert "1 of 3 documents rejected by Elasticsearch" in response.text
    assert osmem.count("logs-*") == 2
    metrics = collector.metrics()
    assert metrics['otelcol_dropped_items_total{component="elasticsearch",signal="logs",reason="rejected_by_elasticsearch"}'] == 1
    assert "mapper_parsing_exception" in collector.log()


def test_server_errors_are_retried_and_nothing_is_duplicated(make_collector, ports, proxy, osmem):
    make_collector(es_config(ports, proxy.url, max_retries=5))
    proxy.fail_statuses = [503, 502, 429]
    assert post(ports, "logs", logs_request(int_values(20))).status_code == 200
    assert osmem.count("logs-*") == 20
    assert len(proxy.bulk_requests()) == 4


def test_retries_used_up_answer_the_client_retryable(make_collector, ports, proxy, osmem):
    make_collector(es_config(ports, proxy.url, max_retries=1))
    proxy.fail_statuses = [503, 503]
    response = post(ports, "logs", logs_request(int_values(5)))
    assert response.status_code == 503
    assert osmem.count("logs-*") == 0
    # The client's retry goes through once the server is back.
    assert post(ports, "logs", logs_request(int_values(5))).status_code == 200
    assert osmem.count("logs-*") == 5


def test_oversize_requests_are_split(make_collector, ports, proxy, osmem):
    make_collector(es_config(ports, proxy.url, extra="    flush:\n      bytes: 2000\n"))
    proxy.fail_statuses = [413]
    assert post(ports, "logs", logs_request(int_values(40))).status_code == 200
    assert osmem.count("logs-*") == 40
    sizes = [len(b["actions"]) for b in proxy.bulk_requests()]
    # The refused request's items went again as two halves; every item was stored once.
    assert sizes[1] + sizes[2] == sizes[0]
    assert sum(sizes[1:]) == 40


@pytest.mark.parametrize("identity", ["opensearch", "elasticsearch"])
def test_request_shape_follows_the_server(make_collector, ports, proxy, osmem, identity):
    """Elasticsearch 8.12+ gets require_data_stream and dynamic templates, and makes metric ids
    itself; an OpenSearch-compatible server gets neither and every document carries our id."""
    if identity == "elasticsearch":
        proxy.identity = ELASTICSEARCH_9
    make_collector(es_config(ports, proxy.url))
    from test_sdk_roundtrip import make_metrics
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    assert post(ports, "metrics", encode_metrics(make_metrics()).SerializeToString()).status_code == 200
    assert post(ports, "logs", logs_request(int_values(2))).status_code == 200
    metrics_bulk, logs_bulk = proxy.bulk_requests()
    metric_actions = [a["create"] for a in metrics_bulk["actions"]]
    log_actions = [a["create"] for a in logs_bulk["actions"]]
    assert all(a["_index"] == "metrics-generic.otel-default" for a in metric_actions)
    assert all("_id" in a for a in log_actions)
    assert metrics_bulk["headers"]["Content-Encoding"] == "gzip"
    if identity == "elasticsearch":
        assert "require_data_stream=true" in logs_bulk["params"]
        assert all("dynamic_templates" in a and "_id" not in a for a in metric_actions)
    else:
        assert not any(p.startswith("require_data_stream") for p in logs_bulk["params"])
        assert all("dynamic_templates" not in a and "_id" in a for a in metric_actions)
    assert osmem.count("logs-*") == 2
