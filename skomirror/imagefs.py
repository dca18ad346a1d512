"""Reading files out of an image in a store, without a container runtime."""

import gzip
import io
import json
import tarfile
from pathlib import PurePosixPath
from typing import Iterator, List, Optional, Tuple

from skomirror.errors import SkomirrorError
from skomirror.manifests import Manifest, parse_manifest
from skomirror.store import Store

PREFERRED_PLATFORM = "linux/amd64"


class ImageReadError(SkomirrorError):
    pass


def platform_manifest(store: Store, manifest: Manifest) -> Manifest:
    """One platform's image of a multi-arch image: linux/amd64 when it has one."""
    if not manifest.is_index:
        return manifest
    children = sorted(manifest.children, key=lambda child: (not store.has_blob(child.digest),  # some platforms only
                                                            child.platform != PREFERRED_PLATFORM))
    if not children:
        raise ImageReadError("the image is an empty index")
    return parse_manifest(store.read_blob(children[0].digest))


def image_config(store: Store, manifest: Manifest) -> dict:
    return json.loads(store.read_blob(manifest.blobs[0].digest))


def layer_digests(store: Store, manifest: Manifest) -> List[str]:
    """The layers in order, repeats included (the parsed manifest keeps each digest once)."""
    return [layer["digest"] for layer in json.loads(store.read_blob(manifest.digest)).get("layers") or []]


def member_path(name: str) -> Optional[PurePosixPath]:
    """A tar member's name as a path relative to the image root, or None for the root itself or a `..` name.

    One rule for every reader: `./a`, `/a` and `a` are the same file, and only a leading `/` is stripped
    (a name that starts with dots, like `..a`, is kept as it is).
    """
    path = PurePosixPath(name.lstrip("/")) if name not in ("", ".", "./") else None
    if path is None or ".." in path.parts:
        return None
    return PurePosixPath(*[part for part in path.parts if part != "."]) if path.parts else None


def layer_members(store: Store, digest: str) -> Iterator[Tuple[tarfile.TarInfo, Optional[bytes]]]:
    """Each entry of a layer with its content (None for anything but a regular file)."""
    data = store.read_blob(digest)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        raise ImageReadError(f"layer {digest} is zstd-compressed, which skomirror cannot read (gzip or plain tar only)")
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
        for member in tar.getmembers():
            yield member, (tar.extractfile(member).read() if member.isfile() else None)
