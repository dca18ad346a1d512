"""The graph-data image behind `graph: true`: the cincinnati-graph-data tarball on a base image.

As oc-mirror builds it: the tarball's files under /var/lib/cincinnati-graph-data,
and a Cmd that copies them where the OpenShift Update Service reads its graph.
"""

import io
import json
import tarfile
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Dict

from skomirror.imagebuild import appended_config, build_layer, canonical_json
from skomirror.imagefs import image_config, platform_manifest
from skomirror.manifests import DOCKER_CONFIG, DOCKER_MANIFEST, OCI_CONFIG, parse_manifest
from skomirror.naming import MirrorName
from skomirror.release.cincinnati import ReleaseCollectionError
from skomirror.store import Store

GRAPH_DATA_URL = "https://api.openshift.com/api/upgrades_info/graph-data"
GRAPH_BASE_IMAGE = "registry.access.redhat.com/ubi9/ubi:latest"
GRAPH_IMAGE = MirrorName("openshift/graph-image", "latest")
GRAPH_DIR = "var/lib/cincinnati-graph-data"
GRAPH_CMD = ["/bin/bash", "-c", "exec cp -rp /var/lib/cincinnati-graph-data/* /var/lib/cincinnati/graph-data"]


def read_graph_data(location: str, timeout: float = 300.0) -> bytes:
    """The tarball from a URL or a local file."""
    try:
        if location.startswith(("http://", "https://")):
            with urllib.request.urlopen(location, timeout=timeout) as response:
                return response.read()
        return Path(location[len("file://"):] if location.startswith("file://") else location).read_bytes()
    except OSError as exc:
        raise ReleaseCollectionError(f"graph data {location}: {getattr(exc, 'reason', None) or exc}") from None


def graph_files(tarball: bytes) -> Dict[str, bytes]:
    """The tarball's regular files, placed under /var/lib/cincinnati-graph-data; unsafe names are refused."""
    files = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:*") as tar:
            for member in tar.getmembers():
                path = PurePosixPath(member.name)
                if path.is_absolute() or ".." in path.parts:
                    raise ReleaseCollectionError(f"graph data: refusing member {member.name!r}")
                if member.isfile():
                    relative = PurePosixPath(*[p for p in path.parts if p != "."])
                    files[f"{GRAPH_DIR}/{relative}"] = tar.extractfile(member).read()
    except tarfile.TarError as exc:
        raise ReleaseCollectionError(f"graph data: not a tarball: {exc}") from None
    if not files:
        raise ReleaseCollectionError("graph data: the tarball holds no files")
    return files


def build_graph_image(store: Store, base_digest: str, tarball: bytes) -> str:
    """Write the graph image into `store` as openshift/graph-image:latest; returns its digest."""
    manifest = parse_manifest(store.read_blob(base_digest))
    manifest = platform_manifest(store, manifest)  # one platform: the update service runs on the cluster's
    layer = build_layer(graph_files(tarball))
    config = appended_config(image_config(store, manifest), [layer], "skomirror: cincinnati graph data")
    config.setdefault("config", {})["Cmd"] = GRAPH_CMD
    config_bytes = canonical_json(config)
    document = json.loads(store.read_blob(manifest.digest))
    document["config"] = {"mediaType": DOCKER_CONFIG if manifest.media_type == DOCKER_MANIFEST else OCI_CONFIG,
                          "digest": store.put_blob(config_bytes), "size": len(config_bytes)}
    document["layers"] = list(document.get("layers") or []) + \
        [dict(layer.descriptor(manifest.media_type), digest=store.put_blob(layer.data))]
    return store.tag(GRAPH_IMAGE, canonical_json(document), manifest.media_type)
