"""Reading image manifests: which blobs an image needs, and how big they are."""

import hashlib
import json
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

from skomirror.imageref import check_digest
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
    except (ValueError, RecursionError) as exc:
        raise ManifestError(f"manifest is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ManifestError("manifest is not a JSON object")
    media_type = document.get("mediaType") or _guess_media_type(document)
    if not isinstance(media_type, str):
        raise ManifestError(f"mediaType {str(media_type)[:100]} is not a string")
    digest = digest_of(raw)
    if media_type in INDEX_TYPES:
        children = tuple(_descriptor(entry) for entry in _entries(document, "manifests"))
        return Manifest(digest, media_type, len(raw), children=children)
    if media_type in SCHEMA1_TYPES:
        layers = tuple(_descriptor(dict(entry, size=None), "blobSum") if isinstance(entry, dict) else
                       _descriptor(entry) for entry in _entries(document, "fsLayers"))
        return Manifest(digest, media_type, len(raw), blobs=_unique(layers))
    blobs = [_descriptor(document["config"])] if "config" in document else []
    blobs += [_descriptor(entry) for entry in _entries(document, "layers")]
    return Manifest(digest, media_type, len(raw), blobs=_unique(blobs))


def _entries(document: dict, key: str) -> list:
    entries = document.get(key) or []
    if not isinstance(entries, list):
        raise ManifestError(f"{key} is not a list")
    return entries


def _guess_media_type(document: dict) -> str:
    if "manifests" in document:
        return OCI_INDEX
    if document.get("schemaVersion") == 1:
        return "application/vnd.docker.distribution.manifest.v1+json"
    return OCI_MANIFEST


def _descriptor(entry: dict, digest_key: str = "digest") -> Descriptor:
    """One descriptor, its digest and size checked: a digest names a file in a store, a size is added up."""
    try:
        platform = entry.get("platform") or {}
        platform_text = "/".join(filter(None, (platform.get("os"), platform.get("architecture"),
                                               platform.get("variant"))))
        size = entry.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise ValueError(f"size {size!r} is not a byte count")
        return Descriptor(check_digest(entry[digest_key]), size, entry.get("mediaType", ""), platform_text)
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise ManifestError(f"malformed descriptor {str(entry)[:200]}: {exc}") from None


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
