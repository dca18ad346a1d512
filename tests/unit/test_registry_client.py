"""The HTTP manifest reader against stub registries: bearer tokens, pull sources, learned schemes."""

import base64
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from skomirror.registry import client as client_module
from skomirror.registry.auth import AuthFiles, AuthPath
from skomirror.registry.client import LEARNED, RegistryClient, Unreachable, Unsupported
from skomirror.registry.registries_conf import Endpoint, RegistriesConf, RegistryEntry
from skomirror.skopeo.command import RegistryAccess
from testkit.registry import free_port
from testkit.tlssilent import TlsSilentProxy

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}'
INSECURE = RegistryAccess(tls_verify=False)


class QuietHandler(BaseHTTPRequestHandler):
    """A stub registry's handler: no access log on stderr, and `reply` for a whole answer (no body to a HEAD)."""

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)


class RecordingHandler(QuietHandler):
    """Answers the ping itself and records every other request in `seen` ("GET /v2/..."), then `answer`s it."""

    seen: list

    def answer(self):
        raise NotImplementedError

    def do_GET(self):
        if self.path == "/v2/":
            return self.reply(200, b"{}")
        self.seen.append(f"{self.command} {self.path}")
        self.answer()

    do_HEAD = do_GET


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stub_registry(manifests, seen=None):
    """A registry answering /v2/ and GET/HEAD of the manifests {tag: body}; 404 for anything else."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, with_body):
            if seen is not None:
                seen.append(self.path)
            tag = self.path.rsplit("/", 1)[-1]
            if self.path == "/v2/":
                status, body = 200, b"{}"
            elif "/manifests/" in self.path and tag in manifests:
                status, body = 200, manifests[tag]
            else:
                status, body = 404, b"{}"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self):
            self.answer(True)

        def do_HEAD(self):
            self.answer(False)

    return serve(Handler)


def client(access=INSECURE, entries=(), auth=None) -> RegistryClient:
    registries = RegistriesConf(entries={entry.prefix: entry for entry in entries})
    return RegistryClient(access, access, registries=registries, auth=auth or AuthFiles([]))


def test_bearer_token_is_fetched_with_the_auth_file_credentials_and_reused(tmp_path):
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
    reader = client(auth=AuthFiles([AuthPath(authfile)]))
    for _ in range(2):
        assert reader.manifest(host, "ns/app", "1", on_destination=False).body == MANIFEST
    server.shutdown()
    token_requests = [(path, auth) for path, auth in seen if path.startswith("/token")]
    assert token_requests == [("/token?service=stub&scope=repository%3Ans%2Fapp%3Apull",
                               "Basic " + base64.b64encode(b"u:p").decode())]  # once, then reused


def test_a_source_is_read_from_its_mirror_first_then_its_rewritten_location():
    mirror, primary = stub_registry({"1": b'{"from":"mirror"}'}), stub_registry({"1": b'{"from":"primary"}',
                                                                                 "2": b'{"from":"primary"}'})
    dead = f"127.0.0.1:{free_port()}"
    entry = RegistryEntry("upstream.invalid/ns", Endpoint(f"127.0.0.1:{primary.server_port}/mirrored/ns"),
                          (Endpoint(dead), Endpoint(f"127.0.0.1:{mirror.server_port}")))
    notes = []
    reader = client(entries=[entry])
    first = reader.manifest("upstream.invalid", "ns/app", "1", False, note=notes.append)
    assert first.body == b'{"from":"mirror"}' and first.origin == f"127.0.0.1:{mirror.server_port}/app"
    assert any(note.startswith(f"{dead}/app: ") and "next pull source" in note for note in notes)
    second = reader.manifest("upstream.invalid", "ns/app", "2", False, note=notes.append)  # the mirror has no 2
    assert second.body == b'{"from":"primary"}'
    assert second.origin == f"127.0.0.1:{primary.server_port}/mirrored/ns/app"
    assert reader.manifest("upstream.invalid", "ns/app", "3", False).digest is None  # the primary's 404 decides
    for server in (mirror, primary):
        server.shutdown()


def test_digest_only_mirrors_are_skipped_for_tags_and_blocked_registries_are_left_to_skopeo():
    seen = []
    mirror, primary = stub_registry({}, seen), stub_registry({"1": MANIFEST})
    entry = RegistryEntry(f"127.0.0.1:{primary.server_port}", Endpoint(f"127.0.0.1:{primary.server_port}"),
                          (Endpoint(f"127.0.0.1:{mirror.server_port}", pull_from_mirror="digest-only"),))
    blocked = RegistryEntry("blocked.invalid", Endpoint("blocked.invalid"), blocked=True)
    reader = client(entries=[entry, blocked])
    assert reader.manifest(f"127.0.0.1:{primary.server_port}", "ns/app", "1", False).origin is None
    assert seen == []
    with pytest.raises(Unsupported, match="blocked in registries.conf"):
        reader.manifest("blocked.invalid", "ns/app", "1", False)
    for server in (mirror, primary):
        server.shutdown()


def test_the_destination_is_asked_itself_whatever_registries_conf_rewrites():
    registry = stub_registry({"1": MANIFEST})
    host = f"127.0.0.1:{registry.server_port}"
    elsewhere = RegistryEntry(host, Endpoint(f"127.0.0.1:{free_port()}"))  # pulls would go to a closed port
    reader = client(entries=[elsewhere])
    assert reader.manifest(host, "ns/app", "1", on_destination=True, head=True).digest is not None
    with pytest.raises(Unreachable):
        reader.manifest(host, "ns/app", "1", on_destination=False)
    registry.shutdown()


def test_plain_http_behind_a_silent_tls_port_is_learned_once_for_all_threads(monkeypatch):
    monkeypatch.setattr(client_module, "CONNECT_TIMEOUT", 0.5)
    registry = stub_registry({str(n): MANIFEST for n in range(8)})
    notes = []
    with TlsSilentProxy(registry.server_port) as proxy:
        reader = client()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda n: reader.manifest(proxy.host, "ns/app", str(n), False, note=notes.append),
                                    range(8)))
        assert all(answer.body == MANIFEST for answer in answers)
        assert proxy.hellos == 1  # one TLS attempt, not one (or two) per image
        learned = [note for note in notes if LEARNED in note]
        assert len(learned) == 1 and "within 0.5s" in learned[0] and "http answers" in learned[0]
    registry.shutdown()


def test_a_host_that_answers_no_allowed_scheme_is_not_waited_for_again(monkeypatch):
    monkeypatch.setattr(client_module, "CONNECT_TIMEOUT", 0.5)
    registry = stub_registry({"1": MANIFEST})
    with TlsSilentProxy(registry.server_port) as proxy:
        reader = client(access=RegistryAccess())  # TLS verified: plain HTTP is not allowed
        for _ in range(3):
            with pytest.raises(Unreachable, match="TLS handshake within 0.5s"):
                reader.manifest(proxy.host, "ns/app", "1", False)
        assert proxy.hellos == 1
    registry.shutdown()
