"""The on-disk store as either end of a copy: mirror to disk writes into it, disk to mirror reads from it."""

from pathlib import Path
from typing import Dict, Optional, Set

from skomirror.endpoints.contract import unreadable
from skomirror.imageref import ImageRef
from skomirror.manifests import ManifestError, parse_manifest
from skomirror.naming import MirrorName
from skomirror.planned import PlannedImage
from skomirror.records import ImageFacts, PlatformSelection
from skomirror.registry.present import PresentBlobs
from skomirror.skopeo.retry import RetryPolicy
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.store import MissingFromStore, Store


class StoreEndpoint:
    """One OCI layout per image in the store, blobs shared."""

    def __init__(self, store: Store):
        self._store = store

    @property
    def store(self) -> Optional[Store]:
        return self._store

    def spec(self, source: ImageRef, name: MirrorName) -> str:
        return self._store.spec(name)

    def repository(self, source: ImageRef, name: MirrorName) -> str:
        return str(self._store.layout(name))  # a layout per image: copies never share one

    def current_digest(self, image: PlannedImage, runner: SkopeoRunner, log: Path,
                       retry: Optional[RetryPolicy]) -> Optional[str]:
        """The digest under the image's tag, unless the layout holds fewer platforms than the image wants."""
        digest = self._store.tagged_digest(image.name)
        return digest if digest and self._store.holds_platforms(image.name, digest, image.platforms) else None

    def blobs_present(self, needed: Dict[str, Set[str]], runner: SkopeoRunner, threads: int) -> PresentBlobs:
        """Blobs are shared by every layout of the store: skopeo reuses any that is there."""
        present = {layout: {digest for digest in digests if self._store.has_blob(digest)}
                   for layout, digests in needed.items()}
        return {layout: digests for layout, digests in present.items() if digests}

    def facts(self, image: PlannedImage, runner: SkopeoRunner, log: Path, retry: Optional[RetryPolicy]) -> ImageFacts:
        digest = self._store.tagged_digest(image.name)
        if digest is None:
            raise unreadable("not in the archives",
                              f"{image.name} is not in the store {self._store.root}; was it mirrored to disk?")
        try:
            return self._store.facts(digest, image.name)
        except (MissingFromStore, ManifestError) as exc:
            raise unreadable("incomplete store", str(exc)) from None

    def child_spec(self, image: PlannedImage, digest: str) -> str:
        return self._store.child_spec(image.name, digest)

    def put_index(self, image: PlannedImage, selection: PlatformSelection, runner: SkopeoRunner, log: Path) -> str:
        """A layout holds a sparse index as it is: the source's digest is kept."""
        kept = [child for child in parse_manifest(selection.index).children if child.digest in selection.kept]
        return self._store.tag(image.name, selection.index, selection.media_type, kept)
