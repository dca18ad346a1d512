"""delete-images.yaml: oc-mirror's DeleteImageList, plus the digest each manifest had when it was listed.

oc-mirror writes `imageName` (the origin), `imageReference` (the destination)
and `type`; skomirror adds `digest`, so that what is deleted is what was
reviewed even if a tag moved since. A list written by oc-mirror (no digests)
is read too: each reference is resolved when deleting, and the log says so.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import yaml

from skomirror.collectors.types import ImageKind
from skomirror.errors import SkomirrorError
from skomirror.errors import InvalidReference
from skomirror.imageref import DOCKER_TRANSPORT, ImageRef
from skomirror.naming import MirrorName

LIST_KIND, API_VERSION = "DeleteImageList", "mirror.openshift.io/v2alpha1"
_DIGEST_PREFIX = "sha256:"


@dataclass(frozen=True)
class DeleteItem:
    origin: str  # imageName: what the configuration named
    reference: str  # imageReference: docker://<DEST>/<path>:<tag>
    kind: ImageKind
    digest: Optional[str] = None  # what the reference held when listed; None in oc-mirror's own lists

    @property
    def destination(self) -> ImageRef:
        return ImageRef.parse(self.reference[len(DOCKER_TRANSPORT):])

    @property
    def destination_name(self) -> MirrorName:
        """For the log file's name only."""
        return MirrorName(self.destination.path, self.destination.tag or "digest")


def list_text(items: List[DeleteItem]) -> str:
    document = {"kind": LIST_KIND, "apiVersion": API_VERSION, "items": [
        {"imageName": item.origin, "imageReference": item.reference, "type": item.kind.oc_mirror_type,
         **({"digest": item.digest} if item.digest else {})}
        for item in sorted(items, key=lambda i: i.reference)]}
    return yaml.safe_dump(document, sort_keys=False, width=1000)


def read_list(path: Path) -> List[DeleteItem]:
    """The items of a delete-images.yaml; one line naming the file and item for anything malformed."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SkomirrorError(f"--delete-yaml-file {path}: cannot read it: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SkomirrorError(f"--delete-yaml-file {path}: not YAML: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(document, dict) or document.get("kind") != LIST_KIND:
        raise SkomirrorError(f"{path}: kind: expected {LIST_KIND} (written by skomirror delete --generate)")
    entries = document.get("items")
    if not isinstance(entries, list) or not entries:
        raise SkomirrorError(f"{path}: items: expected a non-empty list of images to delete")
    return [_item(path, index, entry) for index, entry in enumerate(entries)]


def _item(path: Path, index: int, entry: object) -> DeleteItem:
    where = f"{path}: items[{index}]"
    if not isinstance(entry, dict):
        raise SkomirrorError(f"{where}: expected a mapping with imageName and imageReference")
    values = {}
    for key in ("imageName", "imageReference"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise SkomirrorError(f"{where}.{key}: missing or not a string")
        values[key] = value.strip()
    reference = values["imageReference"]
    try:
        if not reference.startswith(DOCKER_TRANSPORT):
            raise InvalidReference("expected docker://registry/path:tag")
        ImageRef.parse(reference[len(DOCKER_TRANSPORT):])
    except InvalidReference as exc:
        raise SkomirrorError(f"{where}.imageReference: {reference[:200]!r}: {exc}") from None
    try:
        kind = ImageKind.from_oc_mirror_type(entry.get("type") or ImageKind.ADDITIONAL.oc_mirror_type)
    except (StopIteration, TypeError):
        raise SkomirrorError(f"{where}.type: unknown type {str(entry.get('type'))[:60]!r}") from None
    digest = entry.get("digest")
    if digest is not None and (not isinstance(digest, str) or not digest.startswith(_DIGEST_PREFIX)
                               or len(digest) != len(_DIGEST_PREFIX) + 64):
        raise SkomirrorError(f"{where}.digest: expected sha256:<64 hex digits>")
    return DeleteItem(values["imageName"], values["imageReference"], kind, digest)
