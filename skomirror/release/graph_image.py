"""The graph-data image behind `graph: true`: the cincinnati-graph-data tarball on a base image.

As oc-mirror builds it: the tarball's files under /var/lib/cincinnati-graph-data,
and a Cmd that copies them where the OpenShift Update Service reads its graph.
"""

import io
import tarfile
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Dict

from skomirror.imagebuild import append_layers, build_layer
from skomirror.imagefs import image_config, member_path, platform_manifest
from skomirror.manifests import parse_manifest
from skomirror.naming import MirrorName
from skomirror.release.cincinnati import ReleaseCollectionError
from skomirror.store import Store

GRAPH_IMAGE = MirrorName("openshift/graph-image", "latest")
GRAPH_DIR = "var/lib/cincinnati-graph-data"
GRAPH_CMD = ["/bin/bash", "-c", "exec cp -rp /var/lib/cincinnati-graph-data/* /var/lib/cincinnati/graph-data"]


def read_graph_data(location: str, timeout: float = 300.0) -> bytes:
    """The tarball from a URL or a local file; errors name the option, which is where the location came from."""
    try:
        if location.startswith(("http://", "https://")):
            with urllib.request.urlopen(location, timeout=timeout) as response:
                return response.read()
        return Path(location[len("file://"):] if location.startswith("file://") else location).read_bytes()
    except OSError as exc:
        raise ReleaseCollectionError(f"--graph-data {location}: {getattr(exc, 'reason', None) or exc}") from None


def graph_files(tarball: bytes, where: str) -> Dict[str, bytes]:
    """The tarball's regular files, placed under /var/lib/cincinnati-graph-data; unsafe names are refused.

    Checked before anything is pulled, so a bad tarball fails fast; `where` starts every error.
    """
    files = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:*") as tar:
            for member in tar.getmembers():
                path = PurePosixPath(member.name)
                if path.is_absolute() or ".." in path.parts:
                    raise ReleaseCollectionError(f"{where}: refusing member {member.name!r}")
                relative = member_path(member.name)
                if member.isfile() and relative is not None:
                    files[f"{GRAPH_DIR}/{relative}"] = tar.extractfile(member).read()
    except tarfile.TarError as exc:
        raise ReleaseCollectionError(f"{where}: not a tarball: {exc}") from None
    if not files:
        raise ReleaseCollectionError(f"{where}: the tarball holds no files")
    return files


def _run_graph_cmd(settings: dict) -> None:
    """The update service's init container runs the image to copy the graph data where it reads it."""
    settings["Cmd"] = GRAPH_CMD


def build_graph_image(store: Store, base_digest: str, files: Dict[str, bytes]) -> str:
    """Write the graph image of `files` (from graph_files) into `store` as openshift/graph-image:latest.

    Returns its digest. It takes checked files, not the tarball, so that the tarball is checked before the base
    image is pulled.
    """
    manifest = parse_manifest(store.read_blob(base_digest))
    manifest = platform_manifest(store, manifest)  # one platform: the update service runs on the cluster's
    rebuilt = append_layers(store, store.read_blob(manifest.digest), image_config(store, manifest),
                            [build_layer(files)], "skomirror: cincinnati graph data", _run_graph_cmd)
    return store.tag(GRAPH_IMAGE, rebuilt, manifest.media_type)
