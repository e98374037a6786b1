"""Fixtures that run the real otelcol-swift binary as a child process on free local ports."""
import importlib.util
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("OTELCOL_BIN", ROOT / ".build" / "debug" / "otelcol-swift"))


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports handed out lie below the kernel's ephemeral range: a server that binds port 0 (the
# stand-in servers here, a proxy) or an outgoing connection can then never take a port that was
# handed out for a collector that has not bound it yet. Each port is handed out once per run.
_PORT_FLOOR = 20000
_port_cursor = _PORT_FLOOR + (os.getpid() * 7919) % max(1, _ephemeral_floor() - _PORT_FLOOR - 1000)


def free_port() -> int:
    global _port_cursor
    ceiling = _ephemeral_floor()
    for _ in range(ceiling - _PORT_FLOOR):
        port = _port_cursor
        _port_cursor = _PORT_FLOOR if _port_cursor + 1 >= ceiling else _port_cursor + 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port between {_PORT_FLOOR} and {ceiling}")


def stop_under_load(collector, acknowledged, threads, stop, written):
    """Starts the sender `threads`, sends SIGTERM once 2000 items were acknowledged, and checks
    that the collector exits cleanly and that every acknowledged item is in `written()`."""
    for t in threads:
        t.start()
    wait_until(lambda: len(acknowledged) >= 2000, what="load to flow")
    collector.process.send_signal(signal.SIGTERM)
    assert collector.process.wait(timeout=30) == 0
    stop.set()
    for t in threads:
        t.join()
    missing = set(acknowledged) - set(written())
    assert not missing, f"{len(missing)} acknowledged spans missing after SIGTERM"


def wait_until(condition, timeout=20.0, interval=0.02, what="condition", detail=None):
    """Polls `condition` until it returns a truthy value, failing after `timeout` seconds; the
    failure message ends with `detail()` when given (what the parts showed at that moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f"\n{detail()}" if detail else ""))


class Collector:
    """One otelcol-swift process with its ports, output directory and log."""

    def __init__(self, tmp: Path, config: str, **ports):
        self.tmp = tmp
        self.ports = ports
        self.config_path = tmp / "config.yaml"
        self.config_path.write_text(config)
        self.log_path = tmp / "collector.log"
        self.process = None

    def start(self, extra_args=(), env=None):
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(BINARY), "--config", str(self.config_path), *extra_args],
                                        stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_until(self._healthy, what=f"collector health (log: {self.log()})")
        return self

    def _healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(f"collector exited with {self.process.returncode}: {self.log()}")
        try:
            return requests.get(f"http://127.0.0.1:{self.ports['health']}/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def metrics(self) -> dict:
        text = requests.get(f"http://127.0.0.1:{self.ports['metrics']}/metrics", timeout=5).text
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None


def collector_config(ports, out: Path, processors="[batch]", extra_processors="", format="proto", grpc_extra="", http_extra=""):
    return f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{ports['grpc']}
{grpc_extra}
      http:
        endpoint: 127.0.0.1:{ports['http']}
{http_extra}
processors:
  batch:
    send_batch_size: 512
    timeout: 50ms
{extra_processors}
exporters:
  file/traces:
    path: {out}/traces.out
    format: {format}
  file/metrics:
    path: {out}/metrics.out
    format: {format}
  file/logs:
    path: {out}/logs.out
    format: {format}
""" + service_section(ports, f"""    traces:
      receivers: [otlp]
      processors: {processors}
      exporters: [file/traces]
    metrics:
      receivers: [otlp]
      processors: {processors}
      exporters: [file/metrics]
    logs:
      receivers: [otlp]
      processors: {processors}
      exporters: [file/logs]
""")


def otlp_http_to(ports, exporters: str, exporter: str, signals=("traces",), processors="[]") -> str:
    """A collector with only the OTLP/HTTP receiver, feeding `exporter` (defined in the
    `exporters` YAML block) for each of `signals`."""
    return f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{ports['http']}
exporters:{exporters}
""" + service_section(ports, "".join(f"""    {signal}:
      receivers: [otlp]
      processors: {processors}
      exporters: [{exporter}]
""" for signal in signals))


def service_section(ports, pipelines: str) -> str:
    """The health_check extension and internal metrics on the test's ports, and `pipelines`."""
    return f"""extensions:
  health_check:
    endpoint: 127.0.0.1:{ports['health']}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      address: 127.0.0.1:{ports['metrics']}
  pipelines:
{pipelines}"""


def new_ports():
    """Free ports for a collector: OTLP gRPC and HTTP, health_check and internal metrics."""
    return {name: free_port() for name in ("grpc", "http", "health", "metrics")}


@pytest.fixture
def ports():
    return new_ports()


@pytest.fixture
def osmem():
    """osmem-server, the Elasticsearch-compatible server the tests write to."""
    from es_support import Osmem
    server = Osmem()
    yield server
    server.stop()


@pytest.fixture
def make_collector(tmp_path, ports):
    started = []

    def make(config=None, extra_args=(), env=None, **kwargs):
        text = config or collector_config(ports, tmp_path, **kwargs)
        collector = Collector(tmp_path, text, **ports).start(extra_args, env)
        started.append(collector)
        return collector

    yield make
    for collector in started:
        collector.stop()


def read_length_prefixed(path: Path, message_type, while_writing=False):
    """Reads the file exporter's proto format: 4-byte big-endian length, then the message.
    `while_writing` leaves out a last record the exporter is still writing."""
    data = path.read_bytes()
    messages, offset = [], 0
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        if while_writing and offset + 4 + length > len(data):
            break
        offset += 4
        message = message_type()
        message.ParseFromString(data[offset:offset + length])
        messages.append(message)
        offset += length
    assert offset == len(data) or while_writing, "trailing bytes in the output file"
    return messages


def make_pki(directory, server_names="IP:127.0.0.1"):
    """A CA, a server certificate for `server_names` (subjectAltName entries) and a client
    certificate, made with openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca")
    for name, extension in (("server", f"subjectAltName={server_names}"), ("client", "extendedKeyUsage=clientAuth")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=otelcol-{name}")
        (directory / f"{name}.ext").write_text(extension + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", f"{name}.pem",
            "-days", "2", "-extfile", f"{name}.ext")
    return directory


def rotel_agent():
    spec = importlib.util.find_spec("rotel")
    assert spec is not None, "rotel is installed by scripts/setup"
    binary = Path(spec.origin).parent / "rotel-agent"
    binary.chmod(0o755)
    return binary
