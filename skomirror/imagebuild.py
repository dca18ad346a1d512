"""Building image layers and manifests in Python, reproducibly (no container runtime needed).

Fixed mtimes, owners and member order, and gzip without a timestamp: the same
input always gives the same digests, so a rebuilt image is recognised as
already mirrored on the next run.
"""

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List

from skomirror.manifests import (DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP,
                                 parse_manifest)
from skomirror.store import Store


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(document) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def tar_bytes(files: Dict[str, bytes], directories: Iterable[str] = ()) -> bytes:
    """A reproducible tar: fixed mtime, root owner, sorted members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(directories):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(info)
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


def gzip_bytes(data: bytes, level: int = 6) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=level, mtime=0) as compressed:
        compressed.write(data)
    return out.getvalue()


@dataclass(frozen=True)
class BuiltLayer:
    data: bytes  # gzip-compressed tar
    diff_id: str  # digest of the uncompressed tar, as image configs record it

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    def descriptor(self, manifest_type: str) -> dict:
        media_type = DOCKER_LAYER_GZIP if manifest_type == DOCKER_MANIFEST else OCI_LAYER_GZIP
        return {"mediaType": media_type, "digest": self.digest, "size": len(self.data)}


def build_layer(files: Dict[str, bytes], directories: Iterable[str] = ()) -> BuiltLayer:
    raw = tar_bytes(files, directories)
    return BuiltLayer(gzip_bytes(raw), sha256_digest(raw))


def appended_config(config: dict, layers: List[BuiltLayer], created_by: str) -> dict:
    """An image config with `layers` on top: their diff_ids and one history entry each."""
    updated = json.loads(json.dumps(config))
    rootfs = updated.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    rootfs.setdefault("diff_ids", []).extend(layer.diff_id for layer in layers)
    updated.setdefault("history", []).extend({"created_by": created_by} for _ in layers)
    return updated


def append_layers(target: Store, manifest_bytes: bytes, config: dict, layers: List[BuiltLayer], created_by: str,
                  edit: Callable[[dict], None]) -> bytes:
    """The image manifest `manifest_bytes` (whose config is `config`) with `layers` on top; returns the new manifest.

    The catalog rebuild and the graph image both extend an image this way; one place keeps their manifests
    built alike. `edit` changes the config's `config` section (Cmd, Labels); the new config and layers are
    stored in `target`, the returned manifest is not.
    """
    media_type = parse_manifest(manifest_bytes).media_type
    new_config = appended_config(config, layers, created_by)
    edit(new_config.setdefault("config", {}))
    config_bytes = canonical_json(new_config)
    document = json.loads(manifest_bytes)
    document["config"] = {"mediaType": DOCKER_CONFIG if media_type == DOCKER_MANIFEST else OCI_CONFIG,
                          "digest": target.put_blob(config_bytes), "size": len(config_bytes)}
    document["layers"] = list(document.get("layers") or []) + \
        [dict(layer.descriptor(media_type), digest=target.put_blob(layer.data)) for layer in layers]
    return canonical_json(document)
