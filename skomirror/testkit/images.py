"""Deterministic OCI images built in Python, for tests, the demo and the benchmark.

Everything is derived from a seed string, so the same call gives the same
digests on every machine: tests can assert on them and reruns are comparable.
"""

import gzip
import hashlib
import io
import json
import random
import tarfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


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


def tar_bytes(files: Dict[str, bytes]) -> bytes:
    """A reproducible tar: fixed mtime, owner and mode, sorted members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def pseudo_random(seed: str, size: int) -> bytes:
    """Incompressible bytes, so a layer's size on the wire is what the test asked for."""
    rng = random.Random(seed)
    return rng.getrandbits(size * 8).to_bytes(size, "little") if size else b""


def make_layer(seed: str, size: int = 1024, files: Optional[Dict[str, bytes]] = None) -> Layer:
    content = dict(files or {})
    if size or not content:
        content[f"data/{hashlib.sha256(seed.encode()).hexdigest()[:16]}.bin"] = pseudo_random(seed, size)
    raw = tar_bytes(content)
    return Layer(Blob(gzip_bytes(raw), OCI_LAYER_GZIP), sha256_digest(raw))


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


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def simple_image(name: str, layer_sizes: Sequence[int] = (2048, 1024), base: Sequence[Layer] = (),
                 architecture: str = "amd64") -> Image:
    """An image made of shared base layers plus layers of its own, all derived from `name`."""
    own = [make_layer(f"{name}/{architecture}/layer{i}", size) for i, size in enumerate(layer_sizes)]
    return make_image(list(base) + own, architecture=architecture, labels={"name": name})
