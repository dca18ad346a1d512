"""Reading manifests over the registry HTTP API, for the survey only.

A `skopeo inspect` process costs ~18 ms of CPU (55 per second on two cores);
an HTTP request on a kept-alive connection costs a fraction of that, which is
what makes a no-op rerun of thousands of images take seconds. Copies stay
with skopeo. This client handles the plain cases (anonymous, basic or bearer
auth from the auth file, TLS with or without verification, a certificate
directory) and gives up on anything else with `Unsupported`, so that the
caller asks skopeo instead: skopeo stays the authority on errors.
"""

import base64
import hashlib
import http.client
import json
import re
import ssl
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

from skomirror.manifests import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from skomirror.skopeo.command import RegistryAccess

ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST,
                    "application/vnd.docker.distribution.manifest.v1+prettyjws"])
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class Unsupported(Exception):
    """Something this client does not handle: ask skopeo."""


@dataclass(frozen=True)
class Answer:
    digest: Optional[str]  # None: the registry does not have it (404)
    body: bytes = b""


def _load_auths(authfile: Optional[Path]) -> Optional[Dict[str, dict]]:
    """The "auths" of a containers-auth.json (empty without one); None when it cannot be read, to try again."""
    if authfile is None:
        return {}
    try:
        return json.loads(Path(authfile).read_text()).get("auths") or {}
    except (OSError, ValueError):
        return None


def _credentials_in(auths: Dict[str, dict], registry: str, repository: str) -> Optional[Tuple[str, str]]:
    """user, password for the most specific key (host/ns/repo, host/ns, host)."""
    parts = repository.split("/")
    for key in [f"{registry}/{'/'.join(parts[:n])}" for n in range(len(parts), 0, -1)] + [registry]:
        entry = auths.get(key) or auths.get(f"https://{key}")
        if entry and entry.get("auth"):
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            return user, password
    return None


def credentials_for(authfile: Optional[Path], registry: str, repository: str) -> Optional[Tuple[str, str]]:
    """user, password for the most specific key (host/ns/repo, host/ns, host) of a containers-auth.json."""
    return _credentials_in(_load_auths(authfile) or {}, registry, repository)


def _basic(credentials: Tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(":".join(credentials).encode()).decode()


def tls_context(access: RegistryAccess) -> ssl.SSLContext:
    """TLS as skopeo's --tls-verify and --cert-dir set it: `*.crt` CAs, `*.cert`/`*.key` client pairs."""
    context = ssl.create_default_context()
    if not access.tls_verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        return context
    if access.cert_dir:
        for ca in sorted(Path(access.cert_dir).glob("*.crt")):
            context.load_verify_locations(cafile=str(ca))
        for cert in sorted(Path(access.cert_dir).glob("*.cert")):
            context.load_cert_chain(str(cert), str(cert.with_suffix(".key")))
    return context


class RegistryClient:
    def __init__(self, source: RegistryAccess, destination: RegistryAccess, authfile: Optional[Path],
                 timeout: float = 60.0):
        self.access = {False: source, True: destination}
        self.authfile = authfile
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._schemes: Dict[str, str] = {}  # registry -> "https" or "http", once one has worked
        self._contexts: Dict[RegistryAccess, ssl.SSLContext] = {}  # loading CA files is costly: one per access
        self._tokens: Dict[Tuple[str, str], str] = {}  # (registry, repository) -> Authorization header
        self._auths: Optional[Dict[str, dict]] = None  # read once, on the first token fetch: not on every one

    # --- connections ---

    def _context(self, access: RegistryAccess) -> ssl.SSLContext:
        with self._lock:
            if access not in self._contexts:
                self._contexts[access] = tls_context(access)
            return self._contexts[access]


    def _connection(self, scheme: str, registry: str, access: RegistryAccess) -> http.client.HTTPConnection:
        pool = self._local.__dict__.setdefault("connections", {})
        key = (scheme, registry)
        if key not in pool:
            if scheme == "https":
                pool[key] = http.client.HTTPSConnection(registry, timeout=self.timeout, context=self._context(access))
            else:
                pool[key] = http.client.HTTPConnection(registry, timeout=self.timeout)
        return pool[key]

    def _send(self, scheme: str, registry: str, access: RegistryAccess, method: str, path: str,
              headers: Dict[str, str], body: Optional[bytes] = None) -> Tuple[int, Dict[str, str], bytes]:
        for attempt in (1, 2):  # a kept-alive connection the server closed gets one fresh try
            connection = self._connection(scheme, registry, access)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                body = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, body
            except (http.client.HTTPException, OSError):
                connection.close()
                self._local.connections.pop((scheme, registry), None)
                if attempt == 2:
                    raise

    def _request(self, registry: str, access: RegistryAccess, method: str, path: str,
                 headers: Dict[str, str], body: Optional[bytes] = None) -> Tuple[int, Dict[str, str], bytes]:
        known = self._schemes.get(registry)
        schemes = [known] if known else (["https"] if access.tls_verify else ["https", "http"])
        last: Optional[Exception] = None
        for scheme in schemes:
            try:
                answer = self._send(scheme, registry, access, method, path, headers, body)
            except ssl.SSLError as exc:  # plain HTTP on the other end, or an untrusted certificate
                last = exc
                continue
            except (http.client.HTTPException, OSError) as exc:
                raise Unsupported(f"{registry}: {exc}") from None
            with self._lock:
                self._schemes[registry] = scheme
            return answer
        raise Unsupported(f"{registry}: {last}")

    # --- auth ---

    def _credentials(self, registry: str, repository: str) -> Optional[Tuple[str, str]]:
        with self._lock:
            if self._auths is None:
                self._auths = _load_auths(self.authfile)
            auths = self._auths
        return _credentials_in(auths or {}, registry, repository)

    def _authorization(self, registry: str, repository: str, challenge: str, access: RegistryAccess,
                       actions: str = "pull") -> str:
        credentials = self._credentials(registry, repository)
        scheme, _, parameters = challenge.partition(" ")
        if scheme.lower() == "basic":
            if not credentials:
                raise Unsupported(f"{registry} asks for credentials")
            return _basic(credentials)
        if scheme.lower() != "bearer":
            raise Unsupported(f"{registry}: {scheme} authentication")
        fields = dict(_CHALLENGE.findall(parameters))
        realm = urllib.parse.urlsplit(fields.get("realm", ""))
        if realm.scheme not in ("http", "https") or not realm.netloc:
            raise Unsupported(f"{registry}: unusable token realm")
        query = urllib.parse.urlencode({"service": fields.get("service", ""),
                                        "scope": f"repository:{repository}:{actions}"})
        headers = {}
        if credentials:
            headers["Authorization"] = _basic(credentials)
        status, _, body = self._send(realm.scheme, realm.netloc, access, "GET",
                                     f"{realm.path or '/'}?{query}", headers)
        if status != 200:
            raise Unsupported(f"{registry}: token endpoint answered {status}")
        document = json.loads(body)
        token = document.get("token") or document.get("access_token")
        if not token:
            raise Unsupported(f"{registry}: no token")
        return f"Bearer {token}"

    # --- requests ---

    def _authorized(self, registry: str, repository: str, on_destination: bool, method: str, path: str,
                    headers: Dict[str, str], body: Optional[bytes] = None,
                    actions: str = "pull") -> Tuple[int, Dict[str, str], bytes]:
        """A request in `repository`, answering the registry's auth challenge once (the token is kept)."""
        access = self.access[on_destination]
        headers = dict(headers)
        key = (registry, repository) if actions == "pull" else (registry, f"{repository} {actions}")
        token = self._tokens.get(key)
        if token:
            headers["Authorization"] = token
        status, response_headers, answer = self._request(registry, access, method, path, headers, body)
        if status == 401 and "www-authenticate" in response_headers:
            token = self._authorization(registry, repository, response_headers["www-authenticate"], access, actions)
            with self._lock:
                self._tokens[key] = token
            headers["Authorization"] = token
            status, response_headers, answer = self._request(registry, access, method, path, headers, body)
        return status, response_headers, answer

    def _present(self, registry: str, repository: str, method: str, path: str) -> bool:
        status, _, _ = self._authorized(registry, repository, True, method, path, {})
        if status not in (200, 404):
            raise Unsupported(f"{registry}/{repository}: HTTP {status} for {path}")
        return status == 200

    # --- manifests ---

    def manifest(self, registry: str, repository: str, reference: str, on_destination: bool,
                 head: bool = False, absent: Tuple[int, ...] = (404,)) -> Answer:
        """The manifest (or, with head, just its digest) of repository:reference; Answer(None) when the
        registry answers one of the `absent` statuses."""
        status, response_headers, body = self._authorized(registry, repository, on_destination,
                                                          "HEAD" if head else "GET",
                                                          f"/v2/{repository}/manifests/{reference}", {"Accept": ACCEPT})
        if status in absent:
            return Answer(None)
        if status != 200:
            raise Unsupported(f"{registry}/{repository}:{reference}: HTTP {status}")
        if head:
            digest = response_headers.get("docker-content-digest")
            if not digest:
                raise Unsupported("no Docker-Content-Digest header")
            return Answer(digest)
        return Answer("sha256:" + hashlib.sha256(body).hexdigest(), body)

    def put_manifest(self, registry: str, repository: str, reference: str, body: bytes,
                     media_type: str) -> Tuple[int, str]:
        """PUT a manifest into the destination; (HTTP status, the first error code the registry gave or "")."""
        status, _, answer = self._authorized(registry, repository, True, "PUT",
                                             f"/v2/{repository}/manifests/{reference}",
                                             {"Content-Type": media_type}, body, actions="pull,push")
        if status in (200, 201):
            return status, ""
        try:
            errors = json.loads(answer).get("errors") or [{}]
            return status, f"{errors[0].get('code', '')}: {errors[0].get('message', '')}".strip(": ")
        except (ValueError, AttributeError, TypeError, IndexError):
            return status, answer[:200].decode(errors="replace")

    # --- what the destination holds ---

    def repository_present(self, registry: str, repository: str) -> bool:
        """Whether the destination has the repository at all (its tag list answers)."""
        return self._present(registry, repository, "GET", f"/v2/{repository}/tags/list?n=1")

    def blob_present(self, registry: str, repository: str, digest: str) -> bool:
        """Whether the destination repository holds the blob, so that skopeo will skip it."""
        return self._present(registry, repository, "HEAD", f"/v2/{repository}/blobs/{digest}")
