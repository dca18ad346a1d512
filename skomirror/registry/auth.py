"""Registry credentials, found where skopeo finds them (containers/image's pkg/docker/config).

`--authfile` (or REGISTRY_AUTH_FILE, which the CLI reads as --authfile) is the
only file read when given. Otherwise, in order: ${XDG_RUNTIME_DIR}/containers/auth.json
(or /run/containers/<uid>/auth.json), ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json,
${DOCKER_CONFIG:-~/.docker}/config.json, then ~/.dockercfg. In each file the
most specific key wins (host/ns/repo, host/ns, host), then the old URL-style keys.

Credentials kept elsewhere (a `credHelpers` entry, the external helpers of
registries.conf's `credential-helpers`, an identity token) are not read here:
`CredentialsElsewhere` makes the caller ask skopeo. Like containers/image,
`credsStore` is not consulted. Secrets are never put into an error message.
"""

import base64
import binascii
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

from skomirror.registry.registries_conf import AUTH_FILE_HELPER

Credentials = Tuple[str, str]  # user, password


class CredentialsElsewhere(Exception):
    """skopeo may find credentials this module cannot read, or refuses the auth file: ask it."""


@dataclass(frozen=True)
class AuthPath:
    path: Path
    legacy: bool = False  # ~/.dockercfg: the whole file is the "auths" map, keyed by registry only


def auth_paths(authfile: Optional[Path], environ: Mapping[str, str], home: Path) -> List[AuthPath]:
    """The files skopeo reads, in its order."""
    if authfile is not None:
        return [AuthPath(Path(authfile))]
    paths = []
    runtime = environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        paths.append(AuthPath(Path(f"/run/containers/{os.getuid()}/auth.json")))
    elif Path(runtime).exists():  # a missing XDG_RUNTIME_DIR is skipped with a warning by skopeo
        paths.append(AuthPath(Path(runtime) / "containers/auth.json"))
    config_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    paths.append(AuthPath(config_home / "containers/auth.json"))
    docker_config = environ.get("DOCKER_CONFIG")
    paths.append(AuthPath(Path(docker_config) / "config.json" if docker_config else home / ".docker/config.json"))
    paths.append(AuthPath(home / ".dockercfg", legacy=True))
    return paths


def _normalized_registry(registry: str) -> str:
    return "index.docker.io" if registry in ("docker.io", "registry-1.docker.io") else registry


def _normalized_key(key: str, legacy: bool) -> str:
    stripped = key[len("https://"):] if key.startswith("https://") else \
        key[len("http://"):] if key.startswith("http://") else key
    if legacy or stripped != key:
        stripped = stripped.split("/", 1)[0]
    return _normalized_registry(stripped)


def _lookup_keys(key: str, registry: str, legacy: bool) -> Iterator[str]:
    if legacy:
        yield registry
        return
    while True:
        yield key
        if "/" not in key:
            return
        key = key.rsplit("/", 1)[0]


def _decoded(entry: object, path: Path, key: str) -> Optional[Credentials]:
    if not isinstance(entry, dict):
        raise CredentialsElsewhere(f"{path}: the entry for {key} is not an object")
    if entry.get("identitytoken"):
        raise CredentialsElsewhere(f"{path}: {key} has an identity token")
    try:
        decoded = base64.b64decode(entry.get("auth") or "", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, TypeError):
        raise CredentialsElsewhere(f"{path}: the \"auth\" of {key} is not base64") from None
    user, colon, password = decoded.partition(":")
    return (user, password.strip("\x00")) if colon else None  # no colon: skipped, as docker does


class AuthFiles:
    """Credentials for a host/path key, read lazily; each file is parsed once per run."""

    def __init__(self, paths: List[AuthPath], helpers: Optional[List[str]] = None):
        self.paths = paths
        self.helpers = helpers or [AUTH_FILE_HELPER]
        self._documents: Dict[Path, dict] = {}
        self._lock = threading.Lock()

    @classmethod
    def discover(cls, authfile: Optional[Path], environ: Mapping[str, str] = os.environ,
                 helpers: Optional[List[str]] = None) -> "AuthFiles":
        home = Path(environ.get("HOME") or Path.home())
        return cls(auth_paths(authfile, environ, home), helpers)

    def _document(self, auth_path: AuthPath) -> dict:
        """{"auths": ..., "credHelpers": ...} of one file, empty when it does not exist."""
        with self._lock:
            if auth_path.path in self._documents:
                return self._documents[auth_path.path]
        try:
            raw = json.loads(auth_path.path.read_text())
        except FileNotFoundError:
            raw = {}
        except (OSError, ValueError):  # unreadable or not JSON: skopeo fails on it, let it say so
            raise CredentialsElsewhere(f"{auth_path.path}: cannot be read as JSON") from None
        if not isinstance(raw, dict):
            raise CredentialsElsewhere(f"{auth_path.path}: not a JSON object")
        document = {"auths": raw, "credHelpers": {}} if auth_path.legacy else \
            {"auths": raw.get("auths") or {}, "credHelpers": raw.get("credHelpers") or {}}
        if not isinstance(document["auths"], dict) or not isinstance(document["credHelpers"], dict):
            raise CredentialsElsewhere(f"{auth_path.path}: \"auths\" or \"credHelpers\" is not an object")
        with self._lock:
            self._documents[auth_path.path] = document
        return document

    def _in_file(self, auth_path: AuthPath, key: str, registry: str) -> Optional[Credentials]:
        document = self._document(auth_path)
        if registry in document["credHelpers"]:
            raise CredentialsElsewhere(f"{auth_path.path}: {registry} uses a credential helper")
        auths = document["auths"]
        for candidate in _lookup_keys(key, registry, auth_path.legacy):
            if candidate in auths:  # the first key present decides for this file, even an empty entry
                return _decoded(auths[candidate], auth_path.path, candidate)
        wanted = _normalized_registry(registry)
        for candidate, entry in auths.items():
            if _normalized_key(candidate, auth_path.legacy) == wanted:
                return _decoded(entry, auth_path.path, candidate)
        return None

    def find(self, key: str) -> Optional[Credentials]:
        """user, password for `key` (host[/path]), or None when skopeo too would go anonymous."""
        registry = key.split("/", 1)[0]
        for helper in self.helpers:
            if helper != AUTH_FILE_HELPER:
                raise CredentialsElsewhere(f"registries.conf names the credential helper {helper!r}")
            for auth_path in self.paths:
                found = self._in_file(auth_path, key, registry)
                if found:
                    return found
        return None
