"""Image references: the one place that parses and prints `registry/path:tag@digest`.

The grammar is distribution's (lowercase path components, 128-char tags,
`algorithm:hex` digests), and so is the rule for "is the first component a
registry host?" (it has a '.' or a ':', or is `localhost`).

Short names are accepted, as oc-mirror v2 accepts them. They are pulled from
where containers/image (skopeo, oc-mirror) resolves them: `hello-world:latest`
from `docker.io/library/hello-world:latest`, `ubi8/ubi:latest` from
`docker.io/ubi8/ubi:latest`. They land where oc-mirror v2 puts them, which is
not always their path: its ParseRef (internal/pkg/image/image.go) takes the
first of two or more components for the registry and drops it, so
`ubi8/ubi:latest` lands at `<DEST>/ubi:latest` and `hello-world:latest` at
`<DEST>/hello-world:latest`. `ImageRef.mirror_path` keeps that path.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from skomirror.errors import InvalidReference, cut, shown

DOCKER_TRANSPORT = "docker://"
OCI_TRANSPORT = "oci://"  # a catalog kept in a local OCI layout (operators[].catalog only)
DEFAULT_REGISTRY = "docker.io"  # containers/image's defaultDomain, where short names are pulled from
_LEGACY_DEFAULT_REGISTRY = "index.docker.io"
_OFFICIAL_NAMESPACE = "library"  # single-component names on docker.io live under library/
NAME_TOTAL_LENGTH_MAX = 255  # distribution's limit on host and path together, as written

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
        raise InvalidReference(f"invalid digest {shown(digest)} (expected sha256:<64 hex>)")
    expected = _DIGEST_LENGTHS.get(match["algorithm"])
    if expected and len(match["hex"]) != expected:
        raise InvalidReference(f"invalid digest {shown(digest)}: {match['algorithm']} needs {expected} hex digits")
    return digest


def check_repository_path(path: str) -> str:
    """`path` if every component is valid; the first bad one is named."""
    if not path:
        raise InvalidReference("empty repository path")
    for component in path.split("/"):
        if not _PATH_COMPONENT.match(component):
            raise InvalidReference(f"invalid repository path component {shown(component)} (lowercase letters, "
                                   f"digits, and . _ - separators)")
    return path


def check_registry_host(host: str) -> str:
    if not _DOMAIN.match(host):
        raise InvalidReference(f"{shown(host)} is not a registry host[:port]")
    return host


def check_tag(tag: str) -> str:
    if not _TAG.match(tag):
        raise InvalidReference(f"invalid tag {shown(tag)} (at most 128 characters of letters, digits, _ . -)")
    return tag


def locate(name: str) -> Tuple[str, str, str]:
    """(registry, path, mirror path) of a name without tag or digest, short or not.

    registry and path are where the image is pulled from, normalized as
    containers/image's SplitDockerDomain does; the mirror path is where
    oc-mirror v2 puts it under DEST (everything after its first component, or
    the single component).
    """
    first, _, rest = name.partition("/")
    if rest and looks_like_registry(first):
        registry, path = check_registry_host(first), check_repository_path(rest)
    else:
        registry, path = DEFAULT_REGISTRY, check_repository_path(name)
    if registry == _LEGACY_DEFAULT_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"{_OFFICIAL_NAMESPACE}/{path}"
    return registry, path, rest or name


@dataclass(frozen=True)
class ImageRef:
    """Where an image is pulled from (registry, path), by tag and/or digest.

    mirror_path is oc-mirror's path for it under DEST when that is not `path`:
    a short name (`ubi8/ubi` lands at `ubi`, `hello-world` at `hello-world`,
    pulled from docker.io/library/hello-world), or a docker.io name written
    without `library/`. It is None otherwise.
    """

    registry: str
    path: str
    tag: Optional[str] = None
    digest: Optional[str] = None
    mirror_path: Optional[str] = None

    @classmethod
    def parse(cls, text: str, require_tag_or_digest: bool = True) -> "ImageRef":
        """Parse `[docker://][host[:port]/]path[:tag][@digest]`; a short name is resolved as skopeo does."""
        original = text
        if text.startswith(DOCKER_TRANSPORT):
            text = text[len(DOCKER_TRANSPORT):]
        elif "://" in text:
            transport = text.split("://", 1)[0]
            raise InvalidReference(f"unsupported transport {cut(transport, 20)}:// in {shown(original)} "
                                   f"(only docker:// images)")
        if not text or text != text.strip():
            raise InvalidReference(f"{shown(original)} is not an image reference")

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

        if len(name) > NAME_TOTAL_LENGTH_MAX:
            raise InvalidReference(f"{shown(original)} has a name of {len(name):,} characters; a registry takes at "
                                   f"most {NAME_TOTAL_LENGTH_MAX}")
        registry, path, mirror_path = locate(name)
        if require_tag_or_digest and tag is None and digest is None:
            raise InvalidReference(f"{shown(original)} has no tag or digest; add :tag or @sha256:<digest>")
        return cls(registry, path, tag, digest, None if mirror_path == path else mirror_path)

    @property
    def destination_path(self) -> str:
        """The path oc-mirror v2 gives this image under DEST (before targetRepo, namespace and nesting)."""
        return self.mirror_path or self.path

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


def is_oci_layout(text: str) -> bool:
    return text.startswith(OCI_TRANSPORT)


@dataclass(frozen=True)
class OciLayoutRef:
    """`oci://PATH`: a catalog in a local OCI layout, as oc-mirror v2 reads it.

    Everything after `oci://` is the path (`oci:///abs`, `oci://./dir`, `oci://dir`); a relative one is taken
    from the working directory, as oc-mirror's filepath.Abs does. oc-mirror names the catalog after the last
    component of the path; that name is `name` here.
    """

    path: Path  # absolute

    @classmethod
    def parse(cls, text: str) -> "OciLayoutRef":
        if not is_oci_layout(text):
            raise InvalidReference(f"{text!r} is not an oci:// catalog")
        raw = text[len(OCI_TRANSPORT):]
        if not raw.strip():
            raise InvalidReference("oci:// needs the path of an OCI layout, e.g. oci:///data/catalogs/my-index")
        if ":" in raw:  # skopeo's oci: transport reads the first ':' as the start of a tag
            raise InvalidReference(f"the OCI layout path {raw!r} contains ':', which skopeo cannot address; "
                                   f"rename the directory")
        return cls(Path(os.path.abspath(raw)))

    @property
    def name(self) -> str:
        return self.path.name
