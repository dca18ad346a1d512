"""A user's OCI layout holding one catalog image (`catalog: oci://PATH`), read as a source like the store.

skopeo copies out of it (`oci:PATH`), first into the catalog store, where the
catalog is read, filtered and rebuilt like a pulled one. Only index.json is
read here, to refuse what skopeo would refuse less clearly: a path that is not
a layout, a layout with no image, or with several (skopeo's `oci:PATH` needs
exactly one, and oc-mirror's merging of several into one index would mirror
images the user never chose).
"""

import json
from pathlib import Path
from typing import List, Optional

from skomirror.errors import InvalidReference
from skomirror.imageref import check_digest
from skomirror.naming import MirrorName
from skomirror.store import REF_NAME, Store


class LayoutError(Exception):
    """The path is not an OCI layout holding exactly one image; the message says which and what to do."""


def _describe(manifests: List[dict]) -> str:
    names = [(m.get("annotations") or {}).get(REF_NAME) or str(m.get("digest")) for m in manifests]
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


class OciLayout(Store):
    """Read only: `spec` and `tagged_digest` answer for the one image of the layout, whatever name is asked."""

    def __init__(self, root: Path):
        super().__init__(root)
        self._digest: Optional[str] = None

    def image_digest(self) -> str:
        """The digest of the layout's one image (a manifest or an index), checked once."""
        if self._digest is None:
            self._digest = self._check()
        return self._digest

    def _check(self) -> str:
        root = self.root
        if not root.exists():
            raise LayoutError(f"{root} does not exist")
        if not root.is_dir():
            raise LayoutError(f"{root} is not a directory; an OCI layout is a directory with oci-layout, "
                              f"index.json and blobs/")
        if not (root / "oci-layout").is_file() or not (root / "index.json").is_file():
            raise LayoutError(f"{root} is not an OCI layout (no oci-layout or index.json); make one with "
                              f"skopeo copy docker://CATALOG oci:{root}:TAG")
        try:
            manifests = json.loads((root / "index.json").read_text(encoding="utf-8")).get("manifests") or []
        except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
            raise LayoutError(f"{root}/index.json cannot be read: {exc}") from None
        if not manifests:
            raise LayoutError(f"{root} holds no image (index.json lists no manifest)")
        if len(manifests) > 1:
            raise LayoutError(f"{root} holds {len(manifests)} images ({_describe(manifests)}); skomirror reads a "
                              f"layout holding one catalog image: copy the one to mirror into a layout of its "
                              f"own, e.g. skopeo copy --all oci:{root}:TAG oci:NEW-DIR:TAG")
        digest = manifests[0].get("digest")
        try:
            check_digest(str(digest))
        except InvalidReference as exc:
            raise LayoutError(f"{root}/index.json: {exc}") from None
        if not self.has_blob(digest):
            raise LayoutError(f"{root}/index.json names {digest}, which is not in {self.blobs}")
        return digest

    def spec(self, name: MirrorName) -> str:
        return f"oci:{self.root}"  # its one image: skopeo needs no tag for it

    def tagged_digest(self, name: MirrorName) -> Optional[str]:
        return self.image_digest()
