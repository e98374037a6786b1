"""The zpages extension in a real browser (Debian's headless Chromium) while a backend falls
behind: the status page's lag table and plots as rendered, two screenshots kept under
tests/integration/artifacts/ that must differ as the lag grows, and Go's /debug/servicez and
/debug/pipelinez pages."""
import subprocess
import threading

import requests
from confluent_kafka import Producer

from conftest import ROOT, free_port, service_section, wait_until
from kafka_support import KafkaDev
from test_kafka_receiver import request

CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]


def rendered(url):
    """The page's DOM after its script ran (the first refresh of its tables and plots)."""
    result = subprocess.run(CHROMIUM + ["--virtual-time-budget=5000", "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def screenshot(url, path):
    result = subprocess.run(CHROMIUM + ["--virtual-time-budget=5000", "--window-size=1280,1800", f"--screenshot={path}", url],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and path.exists(), result.stderr[-2000:]
    return path.read_bytes()


def test_status_page_in_a_browser_while_the_backend_falls_behind(make_collector, ports):
    broker = KafkaDev(partitions=2, topics=("otlp_spans",))
    zpages = free_port()
    stop = threading.Event()
    try:
        config = f"""
receivers:
  kafka:
    brokers: [{broker.bootstrap}]
    initial_offset: earliest
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:{free_port()}
extensions:
  zpages:
    endpoint: 127.0.0.1:{zpages}
""" + service_section(ports, """    traces:
      receivers: [kafka]
      exporters: [otlphttp]
""").replace("  extensions: [health_check]", "  extensions: [health_check, zpages]").replace(
            "extensions:\n  health_check:", "  health_check:")
        make_collector(config=config)

        def produce():
            producer = Producer({"bootstrap.servers": broker.bootstrap})
            seq = 0
            while not stop.is_set():
                producer.produce("otlp_spans", request(seq, 5))
                producer.poll(0)
                seq += 5
                stop.wait(0.2)
            producer.flush(10)
        threading.Thread(target=produce, daemon=True).start()

        base = f"http://127.0.0.1:{zpages}"
        status = lambda: requests.get(f"{base}/debug/status.json", timeout=5).json()
        wait_until(lambda: sum(p["lagRecords"] for p in status()["partitions"]) > 10, timeout=60, what="a lag to show")

        dom = rendered(f"{base}/debug/status")
        assert '<td>otlp_spans/0</td>' in dom and '<td>otlp_spans/1</td>' in dom, dom[-3000:]
        assert 'retention headroom (seconds)' in dom
        assert dom.count('<polyline stroke="#') == 4 and 'points="0.0,' in dom  # two plots per partition, drawn
        assert "receiver kafka" in dom and "exporter otlphttp" in dom

        artifacts = ROOT / "tests" / "integration" / "artifacts"
        artifacts.mkdir(exist_ok=True)
        first = screenshot(f"{base}/debug/status", artifacts / "zpages-status-1.png")
        lag = sum(p["lagRecords"] for p in status()["partitions"])
        wait_until(lambda: sum(p["lagRecords"] for p in status()["partitions"]) > lag + 10, timeout=60, what="the lag to grow")
        second = screenshot(f"{base}/debug/status", artifacts / "zpages-status-2.png")
        assert first != second, "the page did not change while the lag grew"

        servicez = requests.get(f"{base}/debug/servicez", timeout=5)
        assert servicez.status_code == 200 and "Build Info" in servicez.text and "Uptime" in servicez.text
        pipelinez = requests.get(f"{base}/debug/pipelinez", timeout=5).text
        assert "<td>traces</td><td>traces</td><td>kafka</td><td></td><td>otlphttp</td>" in pipelinez
    finally:
        stop.set()
        broker.stop()
