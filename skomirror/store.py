"""The on-disk store of mirror to disk: one OCI layout per image, every blob once.

skopeo's `oci:` transport rewrites a layout's index.json without a lock, so
parallel copies into one layout lose tags. Here every image has a layout of
its own, and all layouts share one blob directory (`--dest-shared-blob-dir`):
blobs are written to a temporary file and renamed, which is safe when several
skopeo processes store the same blob.

    <root>/blobs/sha256/<hex>                 every manifest, config and layer
    <root>/layouts/<key>/{index.json,oci-layout}   one per image, tagged with its name's tag

An image copied with only some of its platforms (skomirror.platforms) keeps the
source's index, now sparse, under its tag, and lists each platform copied
under a name of its own (`sha256-<hex>`), so that the disconnected side knows
which children are there by choice.
"""

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Set

from skomirror.errors import InvalidReference
from skomirror.files import UMASK_DECIDES, replace_file
from skomirror.imageref import check_digest
from skomirror.manifests import Descriptor, ManifestError, image_facts, parse_manifest
from skomirror.platforms import choose, selection_of
from skomirror.records import ImageFacts
from skomirror.naming import MirrorName

REF_NAME = "org.opencontainers.image.ref.name"
SPARSE = "io.skomirror.platforms.some"  # on a tag whose index is sparse: only the children listed are here
PARTIAL_BLOB_PREFIX = "oci-put-blob"  # skopeo's temporary files, left behind when it is killed
SIGNATURES = "signatures"  # release signatures kept beside the images (and shipped with them)


class MissingFromStore(Exception):
    pass


def child_ref(digest: str) -> str:
    """The layout name of a platform copied on its own: its digest, spelled as a tag can be."""
    return digest.replace(":", "-")


def _is_digest(text: str) -> bool:
    try:
        return bool(check_digest(text))
    except InvalidReference:
        return False


class Store:
    def __init__(self, root: Path):
        self.root = Path(root).absolute()
        self.blobs = self.root / "blobs"
        self.layouts = self.root / "layouts"

    @property
    def signatures(self) -> Path:
        """Where release signatures are kept, so every user of the store finds them in one place."""
        return self.root / SIGNATURES

    def prepare(self) -> "Store":
        for directory in (self.blobs / "sha256", self.layouts):
            directory.mkdir(parents=True, exist_ok=True)
        return self

    @staticmethod
    def layout_key(name: MirrorName) -> str:
        """Readable and unique: a path of safe characters plus a hash of the exact name."""
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("_")[:80]
        return f"{readable}-{hashlib.sha256(str(name).encode()).hexdigest()[:10]}"

    def layout(self, name: MirrorName) -> Path:
        return self.layouts / self.layout_key(name)

    def spec(self, name: MirrorName) -> str:
        return f"oci:{self.layout(name)}:{name.tag}"

    def child_spec(self, name: MirrorName, digest: str) -> str:
        """One platform of a multi-arch image copied alone, under a name of its own in the image's layout."""
        return f"oci:{self.layout(name)}:{child_ref(digest)}"

    def _layout_entries(self, name: MirrorName) -> list:
        try:
            entries = json.loads((self.layout(name) / "index.json").read_text()).get("manifests")
        except (OSError, ValueError, AttributeError):
            return []
        return [entry for entry in entries or [] if isinstance(entry, dict)]

    def listed_children(self, name: MirrorName) -> Optional[Set[str]]:
        """The platforms copied on their own into this image's layout; None when all of them were copied.

        Only while the tag's own entry carries SPARSE: a later copy of every platform replaces that entry.
        """
        entries = self._layout_entries(name)
        top = [entry for entry in entries if (entry.get("annotations") or {}).get(REF_NAME) == name.tag]
        if not top or (top[0].get("annotations") or {}).get(SPARSE) != "true":
            return None
        return {entry.get("digest") for entry in entries if entry is not top[0]}

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hex_part = digest.partition(":")
        return self.blobs / algorithm / hex_part

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def tagged_digest(self, name: MirrorName) -> Optional[str]:
        """The manifest digest this image's layout holds under its tag, if the manifest is really there."""
        try:
            index = json.loads((self.layout(name) / "index.json").read_text())
        except (OSError, ValueError, RecursionError):
            return None
        descriptors = index.get("manifests") if isinstance(index, dict) else None
        for descriptor in descriptors if isinstance(descriptors, list) else []:  # a damaged layout holds nothing
            annotations = descriptor.get("annotations") if isinstance(descriptor, dict) else None
            if isinstance(annotations, dict) and annotations.get(REF_NAME) == name.tag:
                digest = descriptor.get("digest")
                return digest if isinstance(digest, str) and _is_digest(digest) and self.has_blob(digest) else None
        return None

    def put_blob(self, data: bytes) -> str:
        """Store bytes under their digest (temporary file + rename, like skopeo); returns the digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            replace_file(path, data, mode=UMASK_DECIDES, suffix=f"{os.getpid()}.tmp")  # shards share a store
        return digest

    def tag(self, name: MirrorName, manifest: bytes, media_type: str, children: Sequence[Descriptor] = ()) -> str:
        """Make `name`'s layout point at this manifest (stored as a blob), listing `children` copied on their
        own (see the module's docstring); returns its digest."""
        digest = self.put_blob(manifest)
        layout = self.layout(name)
        layout.mkdir(parents=True, exist_ok=True)
        (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        annotations = {REF_NAME: name.tag, **({SPARSE: "true"} if children else {})}
        entries = [{"mediaType": media_type, "digest": digest, "size": len(manifest), "annotations": annotations}]
        entries += [{"mediaType": child.media_type, "digest": child.digest, "size": child.size,
                     "annotations": {REF_NAME: child_ref(child.digest)}} for child in children]
        index = {"schemaVersion": 2, "manifests": entries}
        replace_file(layout / "index.json", json.dumps(index), mode=UMASK_DECIDES)
        return digest

    def holds_platforms(self, name: MirrorName, digest: str, wanted: Sequence[str]) -> bool:
        """Whether the layout holds every platform of `digest` that `wanted` asks for (() asks for all)."""
        listed = self.listed_children(name)
        if listed is None:
            return True
        try:
            children = parse_manifest(self.read_blob(digest)).children
        except (MissingFromStore, ManifestError):
            return False
        needed = choose(children, wanted)[0] if wanted else children
        return all(child.digest in listed for child in needed)

    def read_blob(self, digest: str) -> bytes:
        try:
            return self.blob_path(digest).read_bytes()
        except OSError:
            raise MissingFromStore(f"{digest} is not in the store {self.root}") from None

    def facts(self, digest: str, name: Optional[MirrorName] = None) -> ImageFacts:
        """What the manifest `digest` needs; with `name`, only the platforms its layout lists when it lists any."""
        raw = self.read_blob(digest)
        manifest = parse_manifest(raw)
        listed = self.listed_children(name) if name is not None and manifest.is_index else None
        selection = selection_of(manifest, raw, listed) if listed is not None else None
        kept = [child for child in manifest.children if selection is None or child.digest in selection.kept]
        children = [parse_manifest(self.read_blob(child.digest)) for child in kept]
        return image_facts(manifest, children, selection)

    def blob_sizes(self, digests: Iterable[str]) -> Dict[str, int]:
        """Sizes on disk of the given blobs that the store has."""
        sizes = {}
        for digest in digests:
            try:
                sizes[digest] = self.blob_path(digest).stat().st_size
            except OSError:
                continue
        return sizes

    def remove_partial_writes(self) -> int:
        """Delete what killed skopeo processes left half written; returns how many files."""
        removed = 0
        for partial in self.layouts.glob(f"*/{PARTIAL_BLOB_PREFIX}*"):
            partial.unlink(missing_ok=True)
            removed += 1
        return removed
