"""Image references: the one place that parses and prints `registry/path:tag@digest`.

The grammar is distribution's (lowercase path components, 128-char tags,
`algorithm:hex` digests). Like oc-mirror v2, the first component must be a
registry host: short names such as `ubi9/ubi:latest` are refused instead of
being silently resolved to docker.io.
"""

import re
from dataclasses import dataclass
from typing import Optional

from skomirror.errors import InvalidReference

DOCKER_TRANSPORT = "docker://"

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_DIGEST = re.compile(r"(?P<algorithm>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?P<hex>[0-9a-f]{32,})\Z")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def looks_like_registry(component: str) -> bool:
    """distribution's rule for "is the first path component a host?"."""
    return "." in component or ":" in component or component == "localhost" or component.startswith("[")


def check_digest(digest: str) -> str:
    match = _DIGEST.match(digest)
    if not match:
        raise InvalidReference(f"invalid digest {digest!r} (expected sha256:<64 hex>)")
    expected = _DIGEST_LENGTHS.get(match["algorithm"])
    if expected and len(match["hex"]) != expected:
        raise InvalidReference(f"invalid digest {digest!r}: {match['algorithm']} needs {expected} hex digits")
    return digest


def check_repository_path(path: str) -> str:
    if not path:
        raise InvalidReference("empty repository path")
    for component in path.split("/"):
        if not _PATH_COMPONENT.match(component):
            raise InvalidReference(
                f"invalid repository path component {component!r} (lowercase letters, digits, and . _ - separators)")
    return path


def check_registry_host(host: str) -> str:
    if not _DOMAIN.match(host):
        raise InvalidReference(f"{host!r} is not a registry host[:port]")
    return host


def check_tag(tag: str) -> str:
    if not _TAG.match(tag):
        raise InvalidReference(f"invalid tag {tag!r} (at most 128 characters of letters, digits, _ . -)")
    return tag


@dataclass(frozen=True)
class ImageRef:
    registry: str
    path: str
    tag: Optional[str] = None
    digest: Optional[str] = None

    @classmethod
    def parse(cls, text: str, require_tag_or_digest: bool = True) -> "ImageRef":
        """Parse `[docker://]host[:port]/path[:tag][@digest]`."""
        original = text
        if text.startswith(DOCKER_TRANSPORT):
            text = text[len(DOCKER_TRANSPORT):]
        elif "://" in text:
            transport = text.split("://", 1)[0]
            raise InvalidReference(f"unsupported transport {transport}:// in {original!r} (only docker:// images)")
        if not text or text != text.strip():
            raise InvalidReference(f"{original!r} is not an image reference")

        name, digest = text, None
        if "@" in text:
            name, digest = text.split("@", 1)
            check_digest(digest)
        tag = None
        slash = name.rfind("/")
        colon = name.rfind(":")
        if colon > slash:
            name, tag = name[:colon], name[colon + 1:]
            check_tag(tag)

        registry, _, path = name.partition("/")
        if not path or not looks_like_registry(registry):
            raise InvalidReference(
                f"{original!r} has no registry host; write it in full, e.g. docker.io/library/{name}")
        check_registry_host(registry)
        check_repository_path(path)
        if require_tag_or_digest and tag is None and digest is None:
            raise InvalidReference(f"{original!r} has no tag or digest; add :tag or @sha256:<digest>")
        return cls(registry, path, tag, digest)

    @property
    def repository(self) -> str:
        return f"{self.registry}/{self.path}"

    @property
    def pull_spec(self) -> str:
        """What to pull: by digest when one is known, since a tag can move."""
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"

    @property
    def transport_spec(self) -> str:
        return DOCKER_TRANSPORT + self.pull_spec

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text
