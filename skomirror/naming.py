"""Where an image lands: DEST parsing and oc-mirror v2's destination naming.

Users who switch from oc-mirror keep their mirror layout, and with it the
IDMS/ITMS already applied to their clusters, so these rules copy oc-mirror's:
the source registry is dropped and the path kept, digest-only images get the
tag `sha256-<hex>`, and `--max-nested-paths` folds deep paths with `-`. A
short name keeps oc-mirror's path too, not the docker.io path it is pulled
from: `hello-world:latest` lands at `hello-world`, `ubi8/ubi:latest` at `ubi`
(see ImageRef.mirror_path).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from skomirror.errors import InvalidReference, SkomirrorError
from skomirror.imageref import DOCKER_TRANSPORT, ImageRef, OciLayoutRef, check_registry_host, check_repository_path

FILE_TRANSPORT = "file://"
OCI_CATALOG_TAG = "latest"  # oc-mirror's tag for an oci:// catalog without targetTag


@dataclass(frozen=True)
class RegistryDestination:
    """`docker://registry[/namespace]`: mirror to mirror."""

    registry: str
    namespace: str = ""

    def __str__(self) -> str:
        return DOCKER_TRANSPORT + "/".join(part for part in (self.registry, self.namespace) if part)


@dataclass(frozen=True)
class DiskDestination:
    """`file://dir`: mirror to disk."""

    path: Path

    def __str__(self) -> str:
        return f"{FILE_TRANSPORT}{self.path}"


Destination = Union[RegistryDestination, DiskDestination]


def parse_destination(text: str) -> Destination:
    if text.startswith(DOCKER_TRANSPORT):
        rest = text[len(DOCKER_TRANSPORT):].rstrip("/")
        registry, _, namespace = rest.partition("/")
        try:
            check_registry_host(registry)
            if namespace:
                check_repository_path(namespace)
        except InvalidReference as exc:
            raise SkomirrorError(f"DEST {text!r}: {exc}") from None
        return RegistryDestination(registry, namespace)
    if text.startswith(FILE_TRANSPORT):
        path = text[len(FILE_TRANSPORT):]
        if not path:
            raise SkomirrorError(f"DEST {text!r}: file:// needs a directory, e.g. file:///data/mirror")
        return DiskDestination(Path(path))
    raise SkomirrorError(
        f"DEST {text!r} must start with docker:// (mirror to a registry) or file:// (mirror to disk)")


def digest_tag(digest: str) -> str:
    """oc-mirror's tag for an image known only by digest: `sha256-<hex>`."""
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}-{hex_part}"


def limit_nested_paths(path: str, max_nested_paths: int) -> str:
    """Keep the first n-1 components and join the rest with '-' (oc-mirror's --max-nested-paths)."""
    parts = path.split("/")
    if max_nested_paths <= 0 or len(parts) <= max_nested_paths:
        return path
    keep = max_nested_paths - 1
    return "/".join(parts[:keep] + ["-".join(parts[keep:])])


@dataclass(frozen=True)
class MirrorName:
    """Where an image lands relative to DEST: `path:tag`, before DEST's namespace is put in front."""

    path: str
    tag: str

    def __str__(self) -> str:
        return f"{self.path}:{self.tag}"


def mirror_name(source: ImageRef, target_repo: Optional[str] = None, target_tag: Optional[str] = None) -> MirrorName:
    """oc-mirror's path (the source's without its registry); `name:tag@digest` keeps its tag, a bare digest
    becomes one."""
    return MirrorName(target_repo or source.destination_path,
                      target_tag or source.tag or digest_tag(source.digest or ""))


def registry_reference(destination: RegistryDestination, name: MirrorName, max_nested_paths: int = 0) -> ImageRef:
    """The tagged reference pushed to; --max-nested-paths counts DEST's namespace too, as in oc-mirror."""
    path = "/".join(part for part in (destination.namespace, name.path) if part)
    return ImageRef(destination.registry, limit_nested_paths(path, max_nested_paths), name.tag)


def oci_catalog_name(layout: OciLayoutRef, target_catalog: Optional[str] = None,
                     target_tag: Optional[str] = None) -> MirrorName:
    """Where oc-mirror v2 puts an oci:// catalog: `<targetCatalog or the layout directory's name>:<targetTag or
    latest>`, whatever the layout's own tag. A directory name that is no repository name needs a targetCatalog."""
    if not target_catalog:
        try:
            check_repository_path(layout.name)
        except InvalidReference as exc:
            raise InvalidReference(f"the OCI layout's directory name {layout.name!r} cannot name the mirrored "
                                   f"catalog ({exc}); give the entry a targetCatalog") from None
    return MirrorName(target_catalog or layout.name, target_tag or OCI_CATALOG_TAG)
