"""A local stand-in for the OpenShift update service, graph-data and signature endpoints (stdlib HTTP).

    /api/upgrades_info/v1/graph?channel=<c>&arch=<a>   recorded-shape Cincinnati JSON
    /graph-data.tar.gz                                 a cincinnati-graph-data tarball
    /signatures/sha256=<hex>/signature-1                release signatures
"""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Sequence, Tuple

from skomirror.release.cincinnati import GRAPH_PATH  # the stub answers where the client asks


def graph_document(releases: Sequence[Tuple[str, str]], edges: Sequence[Tuple[str, str]],
                   channels: str = "") -> dict:
    """Cincinnati JSON from (version, payload) pairs and (from, to) version edges, in the real shape."""
    index = {version: i for i, (version, _) in enumerate(releases)}
    nodes = [{"version": version, "payload": payload,
              "metadata": {"io.openshift.upgrades.graph.release.channels": channels,
                           "io.openshift.upgrades.graph.release.manifestref": payload.rsplit("@", 1)[-1]}}
             for version, payload in releases]
    return {"version": 1, "nodes": nodes, "edges": [[index[a], index[b]] for a, b in edges],
            "conditionalEdges": []}


class UpdateServiceStub:
    def __init__(self, graphs: Optional[Dict[Tuple[str, str], dict]] = None, graph_data: bytes = b"",
                 signatures: Optional[Dict[str, bytes]] = None):
        self.graphs = dict(graphs or {})  # (channel, arch) -> document
        self.graph_data = graph_data
        self.signatures = dict(signatures or {})  # "sha256:<hex>" -> signature bytes
        self.failures: List[int] = []  # statuses to answer before the next real answers
        self.requests: List[str] = []
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "UpdateServiceStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                stub.requests.append(self.path)
                if stub.failures:
                    return self._send(stub.failures.pop(0), b'{"kind":"error","value":"injected"}')
                path, _, query = self.path.partition("?")
                params = dict(urllib.parse.parse_qsl(query))
                if path == GRAPH_PATH:
                    if "channel" not in params:
                        return self._send(400, b'{"kind":"missing_params","value":"channel"}')
                    document = stub.graphs.get((params["channel"], params.get("arch", "amd64")),
                                               {"version": 1, "nodes": [], "edges": []})
                    return self._send(200, json.dumps(document).encode())
                if path == "/graph-data.tar.gz":
                    return self._send(200, stub.graph_data, "application/gzip")
                if path.startswith("/signatures/sha256="):
                    digest = "sha256:" + path[len("/signatures/sha256="):].split("/")[0]
                    if digest in stub.signatures:
                        return self._send(200, stub.signatures[digest], "application/octet-stream")
                return self._send(404, b"not found", "text/plain")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="update-service", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "UpdateServiceStub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
