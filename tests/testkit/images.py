"""Deterministic OCI images built in Python, for tests, the demo and the benchmark.

Everything is derived from a seed string, so the same call gives the same
digests on every machine: tests can assert on them and reruns are comparable.
"""

import hashlib
import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from skomirror.imagebuild import canonical_json, gzip_bytes, sha256_digest, tar_bytes
from skomirror.manifests import OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST


@dataclass(frozen=True)
class Blob:
    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra) -> dict:
        return dict({"mediaType": self.media_type, "digest": self.digest, "size": self.size}, **extra)


@dataclass(frozen=True)
class Layer:
    blob: Blob
    diff_id: str


@dataclass(frozen=True)
class Image:
    """A single-platform image: its manifest blob plus every blob it references."""

    manifest: Blob
    config: Blob
    layers: Tuple[Layer, ...]
    platform: Dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def blobs(self) -> List[Blob]:
        return [self.config] + [layer.blob for layer in self.layers]


@dataclass(frozen=True)
class Index:
    """A multi-platform image: an OCI index over single-platform images."""

    manifest: Blob
    images: Tuple[Image, ...]

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def blobs(self) -> List[Blob]:
        return [blob for image in self.images for blob in image.blobs]






def pseudo_random(seed: str, size: int) -> bytes:
    """Incompressible bytes, so a layer's size on the wire is what the test asked for."""
    rng = random.Random(seed)
    return rng.getrandbits(size * 8).to_bytes(size, "little") if size else b""


def make_layer(seed: str, size: int = 1024, files: Optional[Dict[str, bytes]] = None) -> Layer:
    content = dict(files or {})
    if size or not content:
        content[f"data/{hashlib.sha256(seed.encode()).hexdigest()[:16]}.bin"] = pseudo_random(seed, size)
    raw = tar_bytes(content)
    return Layer(Blob(gzip_bytes(raw, level=1), OCI_LAYER_GZIP), sha256_digest(raw))


def make_image(
    layers: Sequence[Layer],
    architecture: str = "amd64",
    os: str = "linux",
    labels: Optional[Dict[str, str]] = None,
    cmd: Optional[List[str]] = None,
) -> Image:
    config = {
        "architecture": architecture,
        "os": os,
        "config": {"Labels": dict(labels or {}), "Cmd": list(cmd or ["/bin/true"])},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created_by": "skomirror testkit"} for _ in layers],
    }
    config_blob = Blob(canonical_json(config), OCI_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [layer.blob.descriptor() for layer in layers],
    }
    return Image(Blob(canonical_json(manifest), OCI_MANIFEST), config_blob, tuple(layers),
                 {"architecture": architecture, "os": os})


def make_index(images: Sequence[Image]) -> Index:
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [image.manifest.descriptor(platform=image.platform) for image in images],
    }
    return Index(Blob(canonical_json(index), OCI_INDEX), tuple(images))




def simple_image(name: str, layer_sizes: Sequence[int] = (2048, 1024), base: Sequence[Layer] = (),
                 architecture: str = "amd64") -> Image:
    """An image made of shared base layers plus layers of its own, all derived from `name`."""
    own = [make_layer(f"{name}/{architecture}/layer{i}", size) for i, size in enumerate(layer_sizes)]
    return make_image(list(base) + own, architecture=architecture, labels={"name": name})


def put_in_store(store, name, image) -> str:
    """Write an Image or Index into a skomirror Store under `name` (a MirrorName); returns its digest."""
    images = image.images if isinstance(image, Index) else (image,)
    for single in images:
        for blob in single.blobs:
            store.put_blob(blob.data)
        store.put_blob(single.manifest.data)
    return store.tag(name, image.manifest.data, image.manifest.media_type)
