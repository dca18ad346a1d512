"""Reading image manifests: which blobs an image needs, and how big they are."""

import hashlib
import json
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

from skomirror.records import ImageFacts, PlatformSelection

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
SCHEMA1_TYPES = frozenset({
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
})


class ManifestError(ValueError):
    pass


def digest_of(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Descriptor:
    digest: str
    size: Optional[int]  # schema 1 manifests do not record blob sizes
    media_type: str = ""
    platform: str = ""


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    size: int
    children: Tuple[Descriptor, ...] = ()  # an index's per-platform manifests
    blobs: Tuple[Descriptor, ...] = ()  # an image's config and layers

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def parse_manifest(raw: bytes) -> Manifest:
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise ManifestError(f"manifest is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ManifestError("manifest is not a JSON object")
    media_type = document.get("mediaType") or _guess_media_type(document)
    digest = digest_of(raw)
    if media_type in INDEX_TYPES:
        children = tuple(_descriptor(entry) for entry in document.get("manifests") or [])
        return Manifest(digest, media_type, len(raw), children=children)
    if media_type in SCHEMA1_TYPES:
        layers = tuple(Descriptor(entry["blobSum"], None) for entry in document.get("fsLayers") or [])
        return Manifest(digest, media_type, len(raw), blobs=_unique(layers))
    blobs = [_descriptor(document["config"])] if "config" in document else []
    blobs += [_descriptor(entry) for entry in document.get("layers") or []]
    return Manifest(digest, media_type, len(raw), blobs=_unique(blobs))


def _guess_media_type(document: dict) -> str:
    if "manifests" in document:
        return OCI_INDEX
    if document.get("schemaVersion") == 1:
        return "application/vnd.docker.distribution.manifest.v1+json"
    return OCI_MANIFEST


def _descriptor(entry: dict) -> Descriptor:
    try:
        platform = entry.get("platform") or {}
        platform_text = "/".join(filter(None, (platform.get("os"), platform.get("architecture"),
                                               platform.get("variant"))))
        return Descriptor(entry["digest"], entry.get("size"), entry.get("mediaType", ""), platform_text)
    except (KeyError, AttributeError, TypeError) as exc:
        raise ManifestError(f"malformed descriptor {entry!r}: {exc}") from None


def _unique(descriptors) -> Tuple[Descriptor, ...]:
    seen: Dict[str, Descriptor] = {}
    for descriptor in descriptors:
        seen.setdefault(descriptor.digest, descriptor)
    return tuple(seen.values())


def image_facts(manifest: Manifest, children: Sequence[Manifest] = (),
                selection: Optional[PlatformSelection] = None) -> ImageFacts:
    """Facts from a manifest and, for an index, the manifests of the platforms copied (all, or `selection`'s)."""
    images = list(children) if manifest.is_index else [manifest]
    blobs: Dict[str, Optional[int]] = {}
    for single in images:
        for blob in single.blobs:
            blobs[blob.digest] = blob.size
    manifests = {manifest.digest: manifest.size}
    manifests.update({child.digest: child.size for child in children})
    return ImageFacts(manifest.digest, blobs, manifests, selection)
