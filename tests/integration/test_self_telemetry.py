"""The collector's own metrics over OTLP/HTTP and OTLP/gRPC (`service.telemetry.metrics.readers`
with a periodic reader and an otlp exporter) into a second otelcol-swift, read back with
opentelemetry-proto."""
import pytest

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from conftest import Collector, collector_config, free_port, read_length_prefixed, wait_until
from test_kafka_exporter import make_traces


def accepted_spans(path):
    """The last value pushed of otelcol_receiver_accepted_spans for the grpc transport."""
    if not path.exists():
        return None
    value = None
    for request in read_length_prefixed(path, ExportMetricsServiceRequest, while_writing=True):
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name != "otelcol_receiver_accepted_spans":
                        continue
                    for point in metric.sum.data_points:
                        labels = {a.key: a.value.string_value for a in point.attributes}
                        if labels.get("transport") == "grpc":
                            value = point.as_double
    return value


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_own_metrics_arrive_at_another_collector_with_the_go_names(make_collector, ports, tmp_path, protocol):
    sink_ports = {k: free_port() for k in ("grpc", "http", "health", "metrics")}
    sink_dir = tmp_path / "sink"
    sink_dir.mkdir()
    sink = Collector(sink_dir, collector_config(sink_ports, sink_dir, processors="[]"), **sink_ports).start()
    try:
        endpoint = (f"                endpoint: http://127.0.0.1:{sink_ports['http']}" if protocol == "http/protobuf" else
                    f"                endpoint: 127.0.0.1:{sink_ports['grpc']}\n                insecure: true\n                compression: gzip")
        config = collector_config(ports, tmp_path, processors="[]").replace("  telemetry:\n    metrics:\n", f"""  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {ports['metrics']}
        - periodic:
            interval: 300
            exporter:
              otlp:
                protocol: {protocol}
{endpoint}
""").replace(f"      address: 127.0.0.1:{ports['metrics']}\n", "")
        collector = make_collector(config=config)
        spans = make_traces(traces=5, children=1)
        exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)
        assert exporter.export(spans).name == "SUCCESS"
        exporter.shutdown()
        wait_until(lambda: accepted_spans(sink_dir / "metrics.out") == len(spans), what="the pushed accepted-spans counter")
        # The same count the Prometheus endpoint shows, under its _total name.
        assert collector.metrics()['otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"}'] == len(spans)
        # And they came by the transport asked for.
        transport = "grpc" if protocol == "grpc" else "http"
        assert sink.metrics().get(f'otelcol_receiver_accepted_metric_points_total{{receiver="otlp",transport="{transport}"}}', 0) > 0
    finally:
        sink.stop()
