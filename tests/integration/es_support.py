"""osmem-server (a real OpenSearch-compatible server, in memory) as a child process, and a proxy
in front of it whose failures and identity a test scripts."""
import gzip
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

import osmem_server

OSMEM = Path(osmem_server.__file__).parent / "bin" / "osmem-server"


class Osmem:
    def __init__(self):
        # stdin stays open: the server exits when it closes, so it never outlives the test run.
        self.process = subprocess.Popen([str(OSMEM), "-addr", "127.0.0.1:0"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("{"), f"osmem-server did not start: {line!r}"
        self.url = json.loads(line)["url"]

    def count(self, index="*"):
        response = requests.get(f"{self.url}/{index}/_count", timeout=10)
        return response.json()["count"] if response.status_code == 200 else 0

    def documents(self, index="*"):
        """Every document of the matching indices, as (index, _id, _source)."""
        response = requests.post(f"{self.url}/{index}/_search", json={"size": 10000, "query": {"match_all": {}}}, timeout=30)
        response.raise_for_status()
        return [(hit["_index"], hit["_id"], hit["_source"]) for hit in response.json()["hits"]["hits"]]

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.terminate()
            self.process.wait(timeout=10)


class BulkProxy:
    """Forwards to osmem-server, recording each `_bulk` request (query, headers, action lines).

    Scriptable: `identity` replaces the answer to `GET /` (to look like Elasticsearch);
    `fail_statuses` answers the next bulk requests with these statuses instead of forwarding, and
    `down` every bulk request with 503;
    `item_statuses` answers chosen items of the next bulk request itself (e.g. 429) and forwards
    only the rest. `require_data_stream` and `dynamic_templates` (Elasticsearch-only) are
    recorded and removed before forwarding, since the server behind does not take them.
    """

    def __init__(self, backend: str):
        self.backend = backend
        self.identity = None
        self.fail_statuses = []
        self.item_statuses = None
        self.down = False
        self.requests = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/" and proxy.identity is not None:
                    self._answer(200, proxy.identity)
                else:
                    response = requests.get(proxy.backend + self.path, timeout=10)
                    self._answer(response.status_code, response.content)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                path, _, query = self.path.partition("?")
                params = [p for p in query.split("&") if p]
                lines = body.decode().splitlines()
                with proxy.lock:
                    proxy.requests.append({"path": path, "params": params, "headers": dict(self.headers),
                                           "actions": [json.loads(line) for line in lines[0::2]]})
                    fail = proxy.fail_statuses.pop(0) if proxy.fail_statuses else (503 if proxy.down else None)
                    scripted, proxy.item_statuses = proxy.item_statuses, None
                if fail is not None:
                    self._answer(fail, json.dumps({"error": {"type": "scripted", "reason": f"scripted {fail}"}, "status": fail}))
                    return
                forward_query = "&".join(p for p in params if not p.startswith("require_data_stream"))
                pairs = [(json.dumps({op: {k: v for k, v in meta.items() if k != "dynamic_templates"}
                                      for op, meta in json.loads(action).items()}), document)
                         for action, document in zip(lines[0::2], lines[1::2])]
                scripted = scripted or {}
                forwarded = [pair for position, pair in enumerate(pairs) if position not in scripted]
                items = []
                if forwarded:
                    payload = "".join(f"{a}\n{d}\n" for a, d in forwarded)
                    response = requests.post(f"{proxy.backend}{path}?{forward_query}", data=payload,
                                             headers={"Content-Type": "application/json"}, timeout=30)
                    if response.status_code != 200:
                        self._answer(response.status_code, response.content)
                        return
                    items = response.json()["items"]
                merged, taken = [], iter(items)
                for position in range(len(pairs)):
                    if position in scripted:
                        status = scripted[position]
                        merged.append({"create": {"status": status, "error": {"type": "es_rejected_execution_exception", "reason": "scripted"}}})
                    else:
                        merged.append(next(taken))
                errors = any(item["create"]["status"] > 201 for item in merged)
                self._answer(200, json.dumps({"errors": errors, "items": merged}))

            def _answer(self, status, body):
                data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bulk_requests(self):
        with self.lock:
            return [r for r in self.requests if r["path"] == "/_bulk"]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


ELASTICSEARCH_9 = {"name": "es", "cluster_name": "test", "version": {"number": "9.1.0", "build_flavor": "default"},
                   "tagline": "You Know, for Search"}


def es_exporter_config(url, extra="", max_retries=2):
    return f"""
  elasticsearch:
    endpoint: {url}
    retry:
      max_retries: {max_retries}
      initial_interval: 10ms
      max_interval: 200ms
{extra}"""


def seqs_in(documents, key="telemetrygen.seq"):
    return sorted(source.get("attributes", {}).get(key) for _, _, source in documents if key in source.get("attributes", {}))

