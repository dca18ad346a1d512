"""Reading manifests over the registry HTTP API, for the survey only.

A `skopeo inspect` process costs ~18 ms of CPU (55 per second on two cores);
an HTTP request on a kept-alive connection costs a fraction of that, which is
what makes a no-op rerun of thousands of images take seconds. Copies stay
with skopeo, so this client follows the host configuration skopeo follows:
registries.conf (`registries_conf.py`: rewrites, mirrors in order, blocked,
insecure), the auth files (`auth.py`) and certs.d (`tls.py`). Which scheme a
host speaks is learned once per run, as skopeo learns it (HTTPS first, plain
HTTP only where TLS verification is off), with timeouts of seconds for the
connection and handshake. Anything else raises `Unsupported`, so that the
caller asks skopeo instead: skopeo stays the authority on errors.
"""

import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from skomirror.errors import InvalidReference
from skomirror.imageref import locate
from skomirror.manifests import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from skomirror.registry.auth import AuthFiles, Credentials, CredentialsElsewhere
from skomirror.registry.registries_conf import PullSource, RegistriesConf
from skomirror.registry.tls import TlsSetupError, cert_dir_for, tls_context
from skomirror.skopeo.command import RegistryAccess

ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST,
                    "application/vnd.docker.distribution.manifest.v1+prettyjws"])
CONNECT_TIMEOUT = 10.0  # seconds for the TCP connection plus the TLS handshake (Go's TLSHandshakeTimeout)
READ_TIMEOUT = 60.0  # seconds of silence while an answer comes: a large manifest list over a slow link
UNREACHABLE_FOR = 60.0  # a host that answered on no scheme is not asked again for this long
LEARNED = "used for the rest of the run"  # ends the log note of a scheme learned the slow way
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_DOCKER_HUB = ("docker.io", "registry-1.docker.io")  # the name in references, the host skopeo dials

Note = Callable[[str], None]


def _silent(line: str) -> None:
    pass


class Unsupported(Exception):
    """Something this client does not handle: ask skopeo."""


class Unreachable(Unsupported):
    """The host answered on no allowed scheme: skopeo too would move on to the next pull source."""


@dataclass(frozen=True)
class Answer:
    digest: Optional[str]  # None: the registry does not have it (an `absent` status)
    body: bytes = b""
    origin: Optional[str] = None  # host/path it was read from, when registries.conf sent the request elsewhere


@dataclass(frozen=True)
class _Place:
    """One host and repository to ask, with how to reach it."""

    registry: str  # host[:port] as named: the key of certs.d and of the auth files
    repository: str
    insecure: bool  # plain HTTP allowed, certificates not verified
    cert_dir: Optional[Path]  # --cert-dir; None: certs.d

    @property
    def host(self) -> str:
        return _DOCKER_HUB[1] if self.registry == _DOCKER_HUB[0] else self.registry

    @property
    def tls_key(self) -> Tuple[str, bool, Optional[Path]]:
        return self.registry, self.insecure, self.cert_dir


class _ConnectTimeout(OSError):
    pass


def _timed(base):
    class Timed(base):
        """Seconds to connect and shake hands, longer between the bytes of an answer."""

        served = False  # has answered a request: a failure may be a kept-alive connection the server closed

        def connect(self):
            try:
                super().connect()
            except socket.timeout:
                raise _ConnectTimeout(f"no answer to the connection or TLS handshake within "
                                      f"{CONNECT_TIMEOUT:g}s") from None
            self.sock.settimeout(READ_TIMEOUT)

    return Timed


_HTTP, _HTTPS = _timed(http.client.HTTPConnection), _timed(http.client.HTTPSConnection)


def first_error(body: bytes) -> Optional[dict]:
    """The first entry of a registry's JSON error body (`{"errors": [...]}`), None when it is no such body."""
    try:
        error = (json.loads(body).get("errors") or [{}])[0]
    except (ValueError, AttributeError, TypeError, IndexError, KeyError):
        return None
    return error if isinstance(error, dict) else None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return f"no answer within {READ_TIMEOUT:g}s"
    return str(exc) or type(exc).__name__


def _basic(credentials: Credentials) -> str:
    return "Basic " + b64encode(":".join(credentials).encode()).decode()


class RegistryClient:
    def __init__(self, source: RegistryAccess, destination: RegistryAccess, authfile: Optional[Path] = None,
                 registries: Optional[RegistriesConf] = None, auth: Optional[AuthFiles] = None,
                 environ: Optional[Mapping[str, str]] = None):
        environ = os.environ if environ is None else environ
        self.access = {False: source, True: destination}
        self.registries = RegistriesConf.load(environ) if registries is None else registries
        self.auth = AuthFiles.discover(authfile, environ, self.registries.credential_helpers) if auth is None \
            else auth
        self.home = Path(environ.get("HOME") or Path.home())
        self._local = threading.local()
        self._lock = threading.Lock()
        self._schemes: Dict[Tuple[str, bool], str] = {}  # (host, insecure) -> the scheme that answered
        self._unreachable: Dict[Tuple[str, bool], Tuple[float, str]] = {}  # -> (until, why)
        self._detecting: Dict[Tuple[str, bool], threading.Lock] = {}  # one scheme detection per host at a time
        self._contexts: Dict[Tuple[str, bool, Optional[Path]], ssl.SSLContext] = {}  # CA files are costly to load
        self._tokens: Dict[Tuple[str, str], str] = {}  # (registry, repository) -> Authorization header

    # --- where to ask ---

    def _places(self, registry: str, repository: str, by_digest: bool, on_destination: bool) -> List[_Place]:
        """The destination itself, or a source's pull sources in skopeo's order (mirrors first)."""
        if self.registries.problem:
            raise Unsupported(f"registries.conf is not followed: {self.registries.problem}")
        access = self.access[on_destination]
        name = f"{registry}/{repository}"
        entry = self.registries.find(name)
        if entry is not None and entry.blocked:
            raise Unsupported(f"{entry.prefix} is blocked in registries.conf")
        if on_destination or entry is None:  # a push goes to the name itself; only `insecure` applies
            sources = [PullSource(name, entry.primary.insecure if entry else False, False)]
        else:
            sources = entry.pull_sources(name, by_digest)
        places = []
        for source in sources:
            try:
                host, path, _ = locate(source.name)
            except InvalidReference as exc:
                raise Unsupported(f"registries.conf rewrites {name} to {source.name}: {exc}") from None
            if f"{host}/{path}" != source.name:
                raise Unsupported(f"registries.conf rewrites {name} to {source.name}, which is not canonical")
            places.append(_Place(host, path, source.insecure or not access.tls_verify, access.cert_dir))
        return places

    # --- connections ---

    def _context(self, place: _Place) -> ssl.SSLContext:
        with self._lock:
            if place.tls_key in self._contexts:
                return self._contexts[place.tls_key]
        try:
            context = tls_context(cert_dir_for(place.registry, place.cert_dir, self.home), not place.insecure)
        except TlsSetupError as exc:
            raise Unsupported(str(exc)) from None
        with self._lock:
            return self._contexts.setdefault(place.tls_key, context)

    def _send(self, scheme: str, host: str, place: _Place, method: str, path: str,
              headers: Dict[str, str], body: Optional[bytes] = None) -> Tuple[int, Dict[str, str], bytes]:
        """One request to `host` (the registry's, or its token service) with `place`'s TLS settings."""
        pool = self._local.__dict__.setdefault("connections", {})
        key = (scheme, host, place.tls_key)
        for attempt in (1, 2):
            if key not in pool:
                pool[key] = _HTTPS(host, timeout=CONNECT_TIMEOUT, context=self._context(place)) \
                    if scheme == "https" else _HTTP(host, timeout=CONNECT_TIMEOUT)
            connection = pool[key]
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
            except (http.client.HTTPException, OSError):
                connection.close()
                pool.pop(key, None)
                if attempt == 2 or not connection.served:  # only a reused connection earns a fresh try
                    raise
                continue
            connection.served = True
            return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
        raise AssertionError("unreachable")

    def _scheme(self, place: _Place, note: Note) -> str:
        """The scheme `place`'s host answers on, learned once per run; other threads wait for the learning."""
        key = (place.host, place.insecure)
        with self._lock:
            if key in self._schemes:
                return self._schemes[key]
            detecting = self._detecting.setdefault(key, threading.Lock())
        with detecting:
            with self._lock:
                if key in self._schemes:
                    return self._schemes[key]
                until, why = self._unreachable.get(key, (0.0, ""))
            if until > time.monotonic():
                raise Unreachable(why)
            failures = []
            for scheme in ("https", "http") if place.insecure else ("https",):  # skopeo's ping order
                try:
                    status, _, _ = self._send(scheme, place.host, place, "GET", "/v2/", {})
                except (http.client.HTTPException, OSError) as exc:  # ssl.SSLError and timeouts too
                    failures.append(f"{scheme}: {_describe(exc)}")
                    continue
                if status in (200, 401):
                    if failures:
                        note(f"{place.host}: {failures[0]}; {scheme} answers, {LEARNED}")
                    with self._lock:
                        self._schemes[key] = scheme
                    return scheme
                failures.append(f"{scheme}: /v2/ answered HTTP {status}")
            why = f"{place.host}: {'; '.join(failures)}"
            with self._lock:
                self._unreachable[key] = (time.monotonic() + UNREACHABLE_FOR, why)
            raise Unreachable(why)

    def _request(self, place: _Place, method: str, path: str, headers: Dict[str, str],
                 note: Note, body: Optional[bytes] = None) -> Tuple[int, Dict[str, str], bytes]:
        scheme = self._scheme(place, note)
        try:
            return self._send(scheme, place.host, place, method, path, headers, body)
        except (http.client.HTTPException, OSError) as exc:
            raise Unreachable(f"{place.host}: {_describe(exc)}") from None

    # --- auth ---

    def _credentials(self, place: _Place) -> Optional[Credentials]:
        try:
            return self.auth.find(f"{place.registry}/{place.repository}")
        except CredentialsElsewhere as exc:
            raise Unsupported(str(exc)) from None

    def _authorization(self, place: _Place, challenge: str, actions: str = "pull") -> str:
        credentials = self._credentials(place)
        scheme, _, parameters = challenge.partition(" ")
        if scheme.lower() == "basic":
            if not credentials:
                raise Unsupported(f"{place.registry} asks for credentials")
            return _basic(credentials)
        if scheme.lower() != "bearer":
            raise Unsupported(f"{place.registry}: {scheme} authentication")
        fields = dict(_CHALLENGE.findall(parameters))
        realm = urllib.parse.urlsplit(fields.get("realm", ""))
        if realm.scheme not in ("http", "https") or not realm.netloc:
            raise Unsupported(f"{place.registry}: unusable token realm")
        query = urllib.parse.urlencode({"service": fields.get("service", ""),
                                        "scope": f"repository:{place.repository}:{actions}"})
        headers = {"Authorization": _basic(credentials)} if credentials else {}
        try:
            status, _, body = self._send(realm.scheme, realm.netloc, place, "GET", f"{realm.path or '/'}?{query}",
                                         headers)
        except (http.client.HTTPException, OSError) as exc:
            raise Unsupported(f"{place.registry}: token service: {_describe(exc)}") from None
        if status != 200:
            raise Unsupported(f"{place.registry}: token endpoint answered {status}")
        try:
            document = json.loads(body)
        except ValueError:
            raise Unsupported(f"{place.registry}: the token service answered no JSON") from None
        token = (document.get("token") or document.get("access_token")) if isinstance(document, dict) else None
        if not token:
            raise Unsupported(f"{place.registry}: no token")
        return f"Bearer {token}"

    # --- requests ---

    def _authorized(self, place: _Place, method: str, path: str, headers: Dict[str, str],
                    note: Note, body: Optional[bytes] = None,
                    actions: str = "pull") -> Tuple[int, Dict[str, str], bytes]:
        """A request in `place`, answering the registry's auth challenge once (the token is kept per scope)."""
        headers = dict(headers)
        key = (place.registry, place.repository if actions == "pull" else f"{place.repository} {actions}")
        token = self._tokens.get(key)
        if token:
            headers["Authorization"] = token
        status, response_headers, answer = self._request(place, method, path, headers, note, body)
        if status == 401 and "www-authenticate" in response_headers:
            token = self._authorization(place, response_headers["www-authenticate"], actions)
            with self._lock:
                self._tokens[key] = token
            headers["Authorization"] = token
            status, response_headers, answer = self._request(place, method, path, headers, note, body)
        return status, response_headers, answer

    def _present(self, registry: str, repository: str, method: str, path: str) -> bool:
        place = self._places(registry, repository, False, True)[0]
        status, _, _ = self._authorized(place, method, path, {}, _silent)
        if status not in (200, 404):
            raise Unsupported(f"{registry}/{repository}: HTTP {status} for {path}")
        return status == 200

    # --- manifests ---

    def manifest(self, registry: str, repository: str, reference: str, on_destination: bool,
                 head: bool = False, absent: Tuple[int, ...] = (404,), note: Note = _silent) -> Answer:
        """The manifest (or, with head, just its digest) of repository:reference; Answer(None) when the
        registry answers one of the `absent` statuses. A source is read where skopeo would pull it from:
        each pull source in turn, the next when one cannot answer, the primary's answer last."""
        places = self._places(registry, repository, ":" in reference, on_destination)
        for index, place in enumerate(places):
            last = index == len(places) - 1
            origin = None if (place.registry, place.repository) == (registry, repository) else \
                f"{place.registry}/{place.repository}"
            try:
                status, headers, body = self._authorized(place, "HEAD" if head else "GET",
                                                         f"/v2/{place.repository}/manifests/{reference}",
                                                         {"Accept": ACCEPT}, note)
            except Unreachable as exc:
                if last:
                    raise
                note(f"{origin}: {exc}; trying the next pull source")
                continue
            if status != 200 and not last:
                note(f"{origin}: HTTP {status}; trying the next pull source")
                continue
            if status in absent:
                return Answer(None, origin=origin)
            if status != 200:
                raise Unsupported(f"{place.registry}/{place.repository}:{reference}: HTTP {status}")
            if not head:
                return Answer("sha256:" + hashlib.sha256(body).hexdigest(), body, origin)
            digest = headers.get("docker-content-digest")
            if not digest:
                raise Unsupported("no Docker-Content-Digest header")
            return Answer(digest, origin=origin)
        raise AssertionError("no pull source")  # pull_sources always ends with the primary

    def put_manifest(self, registry: str, repository: str, reference: str, body: bytes,
                     media_type: str) -> Tuple[int, str]:
        """PUT a manifest into the destination; (HTTP status, the first error code the registry gave or "")."""
        place = self._places(registry, repository, False, True)[0]
        status, _, answer = self._authorized(place, "PUT", f"/v2/{repository}/manifests/{reference}",
                                             {"Content-Type": media_type}, _silent, body, actions="pull,push")
        if status in (200, 201):
            return status, ""
        error = first_error(answer)
        if error is None:
            return status, answer[:200].decode(errors="replace")
        return status, f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")

    # --- what the destination holds ---

    def repository_present(self, registry: str, repository: str) -> bool:
        """Whether the destination has the repository at all (its tag list answers)."""
        return self._present(registry, repository, "GET", f"/v2/{repository}/tags/list?n=1")

    def blob_present(self, registry: str, repository: str, digest: str) -> bool:
        """Whether the destination repository holds the blob, so that skopeo will skip it."""
        return self._present(registry, repository, "HEAD", f"/v2/{repository}/blobs/{digest}")

    # --- what a repository lists ---

    def tag_list(self, registry: str, repository: str, query: str, on_destination: bool,
                 note: Note = _silent) -> Tuple[int, Mapping[str, str], bytes]:
        """GET the repository's `tags/list?query` (status, headers, body); its meaning: skomirror.registry.tags.
        Raises Unsupported where one host's list is not the answer (mirrors in registries.conf)."""
        places = self._places(registry, repository, False, on_destination)
        if len(places) != 1:  # a tag is looked for in the mirrors first
            raise Unsupported(f"{registry}/{repository} has mirrors in registries.conf")
        return self._authorized(places[0], "GET", f"/v2/{places[0].repository}/tags/list?{query}", {}, note)
