"""Catalog images: finding the FBC inside one, and building the filtered catalog image.

Reading: the config label `operators.operatorframework.io.index.configs.v1`
names the FBC directory (default /configs); the layers are applied in order,
whiteouts included, and only that directory is written out.

Rebuilding (as oc-mirror does): every platform image of the original gets two
more layers, a whiteout of the old directory and the filtered FBC in /configs,
and its config runs `serve /configs`. Everything else (opm, base layers) is
shared with the original, so only the two small layers are new.
"""

import json
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Dict, List, Tuple

from skomirror.catalog.fbc import CatalogError
from skomirror.imagefs import image_config, layer_digests, layer_members, member_path, platform_manifest
from skomirror.imagebuild import BuiltLayer, append_layers, build_layer, canonical_json
from skomirror.manifests import parse_manifest
from skomirror.naming import MirrorName
from skomirror.store import Store

CONFIGS_LABEL = "operators.operatorframework.io.index.configs.v1"
DEFAULT_CONFIGS = "/configs"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


def configs_dir(config: dict) -> str:
    labels = (config.get("config") or {}).get("Labels") or {}
    return labels.get(CONFIGS_LABEL) or DEFAULT_CONFIGS


def extract_configs(store: Store, digest: str, target: Path) -> Path:
    """Write the FBC directory of the catalog image `digest` (from `store`) into `target`; returns it."""
    manifest = platform_manifest(store, parse_manifest(store.read_blob(digest)))
    root = PurePosixPath(configs_dir(image_config(store, manifest)).strip("/"))
    files: Dict[PurePosixPath, bytes] = {}
    for layer in layer_digests(store, manifest):
        members = list(layer_members(store, layer))
        for member, _ in members:  # whiteouts hide what lower layers had
            path = member_path(member.name)
            if path is None or not path.name.startswith(WHITEOUT):
                continue
            opaque = path.name == OPAQUE
            hidden = path.parent if opaque else path.parent / path.name[len(WHITEOUT):]
            for existing in [p for p in files if hidden in p.parents or (p == hidden and not opaque)]:
                del files[existing]
        for member, content in members:
            path = member_path(member.name)
            if path is None or path.name.startswith(WHITEOUT) or content is None:
                continue
            if path == root or root in path.parents:
                files[path] = content
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path, content in files.items():
        destination = target / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content)
    if not files:
        raise CatalogError(f"no file-based catalog under /{root} in the catalog image (is it an old sqlite index?)")
    return target


def _fbc_layers(configs: Path, old_root: str) -> List[BuiltLayer]:
    old = PurePosixPath(old_root.strip("/"))
    whiteout = build_layer({str(old.parent / f"{WHITEOUT}{old.name}") if str(old.parent) != "." else
                            f"{WHITEOUT}{old.name}": b""})
    files = {f"configs/{path.relative_to(configs).as_posix()}": path.read_bytes()
             for path in sorted(configs.rglob("*")) if path.is_file()}
    return [whiteout, build_layer(files, directories=["configs"])]


def _serve_configs(settings: dict) -> None:
    """The rebuilt catalog serves the filtered FBC from /configs, wherever the original kept its own."""
    settings["Cmd"] = ["serve", DEFAULT_CONFIGS]
    settings.setdefault("Labels", {})[CONFIGS_LABEL] = DEFAULT_CONFIGS


def _rebuild_platform(store: Store, target: Store, manifest_bytes: bytes, configs: Path) -> Tuple[bytes, str]:
    manifest = parse_manifest(manifest_bytes)
    config = image_config(store, manifest)
    layers = _fbc_layers(configs, configs_dir(config))
    for layer in manifest.blobs[1:]:
        _share_blob(store, target, layer.digest)
    rebuilt = append_layers(target, manifest_bytes, config, layers, "skomirror: filtered catalog", _serve_configs)
    return rebuilt, target.put_blob(rebuilt)


def _share_blob(source: Store, target: Store, digest: str) -> None:
    """The original's layers are needed unchanged: link them (or copy across filesystems)."""
    destination = target.blob_path(digest)
    if destination.exists():
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source.blob_path(digest), destination)
    except OSError:
        shutil.copyfile(source.blob_path(digest), destination)


def rebuild_catalog(store: Store, digest: str, configs: Path, target: Store, name: MirrorName) -> str:
    """Build the filtered catalog from image `digest` in `store` into `target` under `name`; returns its digest."""
    top_bytes = store.read_blob(digest)
    top = parse_manifest(top_bytes)
    if not top.is_index:
        rebuilt, _ = _rebuild_platform(store, target, top_bytes, configs)
        return target.tag(name, rebuilt, top.media_type)
    index = json.loads(top_bytes)
    # pulled with only some platforms (an ISC's platforms): the rebuilt catalog has just those
    index["manifests"] = [entry for entry in index.get("manifests") or [] if store.has_blob(entry["digest"])]
    for entry in index["manifests"]:
        child_bytes = store.read_blob(entry["digest"])
        rebuilt, rebuilt_digest = _rebuild_platform(store, target, child_bytes, configs)
        entry["digest"], entry["size"] = rebuilt_digest, len(rebuilt)
    return target.tag(name, canonical_json(index), top.media_type)
