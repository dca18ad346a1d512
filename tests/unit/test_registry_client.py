"""The bearer-token flow of the HTTP manifest reader, against a stub registry and token service."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from skomirror.registry.client import RegistryClient, credentials_for
from skomirror.skopeo.command import RegistryAccess

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}'


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_bearer_token_is_fetched_with_the_authfile_credentials_and_reused(tmp_path):
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path.startswith("/token"):
                body = json.dumps({"token": "abc"}).encode()
                self.send_response(200)
            elif self.headers.get("Authorization") == "Bearer abc":
                body = MANIFEST
                self.send_response(200)
            else:
                body = b"{}"
                self.send_response(401)
                self.send_header("WWW-Authenticate", f'Bearer realm="http://127.0.0.1:{self.server.server_port}/token",'
                                                     f'service="stub"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = serve(Handler)
    host = f"127.0.0.1:{server.server_port}"
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps({"auths": {f"{host}/ns": {"auth": base64.b64encode(b"u:p").decode()}}}))
    client = RegistryClient(RegistryAccess(False), RegistryAccess(False), authfile)
    for _ in range(2):
        assert client.manifest(host, "ns/app", "1", on_destination=False).body == MANIFEST
    server.shutdown()
    token_requests = [(path, auth) for path, auth in seen if path.startswith("/token")]
    assert token_requests == [("/token?service=stub&scope=repository%3Ans%2Fapp%3Apull",
                               "Basic " + base64.b64encode(b"u:p").decode())]  # once, then reused


def test_credentials_are_matched_most_specific_first(tmp_path):
    authfile = tmp_path / "auth.json"
    entries = {"reg.io": "host:h", "reg.io/ns": "ns:n", "reg.io/ns/app": "app:a"}
    authfile.write_text(json.dumps({"auths": {k: {"auth": base64.b64encode(v.encode()).decode()}
                                              for k, v in entries.items()}}))
    assert credentials_for(authfile, "reg.io", "ns/app") == ("app", "a")
    assert credentials_for(authfile, "reg.io", "ns/other") == ("ns", "n")
    assert credentials_for(authfile, "reg.io", "else/x") == ("host", "h")
    assert credentials_for(authfile, "other.io", "x") is None and credentials_for(None, "reg.io", "x") is None
