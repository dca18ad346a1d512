"""Start and seed real `docker-registry` (distribution 2.8) instances on 127.0.0.1.

Shared by the tests, scripts/demo.sh and scripts/bench.py so that all three
exercise the same registry setup.
"""

import base64
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.parse
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from testkit.images import Blob, Image, Index

REGISTRY_BINARY_NAMES = ("docker-registry", "registry")


def find_registry_binary() -> str:
    for name in REGISTRY_BINARY_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError("docker-registry not found; install it with: apt-get install -y docker-registry")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def basic_header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path  # alone in its directory, so that directory works as skopeo's --cert-dir
    cert: Path
    key: Path

    @property
    def ca_dir(self) -> Path:
        return self.ca_cert.parent


def make_tls_files(directory: Path, host: str = "127.0.0.1") -> TlsFiles:
    """A self-signed CA and a server certificate for `host`, made with the openssl CLI."""
    (directory / "ca").mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = directory / "ca.key", directory / "ca" / "ca.crt"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ext = directory / "san.ext"
    ext.write_text(f"subjectAltName=IP:{host}\nbasicConstraints=CA:FALSE\n")

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=skomirror test CA",
            "-keyout", str(ca_key), "-out", str(ca_cert))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}", "-keyout", str(key), "-out", str(csr))
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
            "-days", "2", "-extfile", str(ext), "-out", str(cert))
    return TlsFiles(ca_cert, cert, key)


def htpasswd_line(credentials: Credentials) -> str:
    """A bcrypt htpasswd entry, the only hash distribution accepts.

    Cost 4, the minimum: the registry checks it on every request, and cost 12 made a
    small authenticated mirror take half a minute.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # deprecated in 3.11 and gone in 3.13; htpasswd(1) below covers those

        hashed = crypt.crypt(credentials.password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
        if hashed and hashed.startswith("$2"):
            return f"{credentials.username}:{hashed}"
    except ImportError:
        pass
    out = subprocess.run(["htpasswd", "-nbBC", "4", credentials.username, credentials.password],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Registry:
    """One running docker-registry; use as a context manager or call stop()."""

    def __init__(self, root: Path, credentials: Optional[Credentials] = None, tls: Optional[TlsFiles] = None,
                 port: Optional[int] = None, deletes: bool = True):
        self.root = Path(root)
        self.credentials = credentials
        self.tls = tls
        self.port = port or free_port()
        self.deletes = deletes
        self.process: Optional[subprocess.Popen] = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def log_path(self) -> Path:
        return self.root / "registry.log"

    def _write_config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        lines = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  accesslog:",
            "    disabled: false",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.storage}",
            "  delete:",
            f"    enabled: {'true' if self.deletes else 'false'}",
            "  cache:",
            "    blobdescriptor: inmemory",
            "http:",
            f"  addr: {self.host}",
            "  headers:",
            "    X-Content-Type-Options: [nosniff]",
        ]
        if self.tls:
            lines += ["  tls:", f"    certificate: {self.tls.cert}", f"    key: {self.tls.key}"]
        if self.credentials:
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text(htpasswd_line(self.credentials) + "\n")
            lines += ["auth:", "  htpasswd:", "    realm: skomirror-test", f"    path: {htpasswd}"]
        config = self.root / "config.yml"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self, timeout: float = 20.0) -> "Registry":
        config = self._write_config()
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([find_registry_binary(), "serve", str(config)], stdout=log, stderr=log,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited early; see {self.log_path}")
            try:
                status, _, _ = self.request("GET", "/v2/", authenticate=False)
                if status in (200, 401):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry on {self.host} did not answer within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> "Registry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- a minimal registry API client, enough to seed test data quickly ---

    def _connection(self) -> http.client.HTTPConnection:
        if self.tls:
            context = ssl.create_default_context(cafile=str(self.tls.ca_cert))
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=60)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[dict] = None,
                authenticate: bool = True) -> Tuple[int, dict, bytes]:
        headers = dict(headers or {})
        if authenticate and self.credentials:
            headers["Authorization"] = self.credentials.basic_header()
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def has_blob(self, repository: str, digest: str) -> bool:
        status, _, _ = self.request("HEAD", f"/v2/{repository}/blobs/{digest}")
        return status == 200

    def push_blob(self, repository: str, blob: Blob) -> None:
        if self.has_blob(repository, blob.digest):
            return
        status, headers, body = self.request("POST", f"/v2/{repository}/blobs/uploads/")
        if status != 202:
            raise RuntimeError(f"starting upload to {repository}: HTTP {status} {body[:200]!r}")
        location = urllib.parse.urlsplit(headers["location"])
        query = location.query + ("&" if location.query else "") + urllib.parse.urlencode({"digest": blob.digest})
        status, _, body = self.request("PUT", f"{location.path}?{query}", body=blob.data,
                                       headers={"Content-Type": "application/octet-stream",
                                                "Content-Length": str(blob.size)})
        if status != 201:
            raise RuntimeError(f"uploading {blob.digest} to {repository}: HTTP {status} {body[:200]!r}")

    def put_manifest(self, repository: str, reference: str, manifest: Blob) -> None:
        status, _, body = self.request("PUT", f"/v2/{repository}/manifests/{reference}", body=manifest.data,
                                       headers={"Content-Type": manifest.media_type})
        if status != 201:
            raise RuntimeError(f"putting manifest {repository}:{reference}: HTTP {status} {body[:300]!r}")

    def push(self, repository: str, tag: str, image: Union[Image, Index]) -> str:
        """Upload an image or index under `repository:tag`; returns its digest."""
        images = image.images if isinstance(image, Index) else (image,)
        for single in images:
            for blob in single.blobs:
                self.push_blob(repository, blob)
            if isinstance(image, Index):
                self.put_manifest(repository, single.digest, single.manifest)
        self.put_manifest(repository, tag, image.manifest)
        return image.digest

    def manifest_digest(self, repository: str, reference: str) -> Optional[str]:
        accept = ", ".join([
            "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ])
        status, headers, _ = self.request("HEAD", f"/v2/{repository}/manifests/{reference}",
                                          headers={"Accept": accept})
        return headers.get("docker-content-digest") if status == 200 else None

    def catalog(self) -> list:
        status, _, body = self.request("GET", "/v2/_catalog?n=1000")
        return json.loads(body)["repositories"] if status == 200 else []

    def tags(self, repository: str) -> list:
        status, _, body = self.request("GET", f"/v2/{repository}/tags/list")
        return sorted(json.loads(body).get("tags") or []) if status == 200 else []


def write_authfile(path: Path, credentials_by_host: Dict[str, Credentials]) -> Path:
    """A containers-auth.json file with owner-only permissions."""
    auths = {}
    for host, credentials in credentials_by_host.items():
        token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
        auths[host] = {"auth": token}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"auths": auths}, handle)
    return path
