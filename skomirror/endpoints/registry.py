"""A registry as either end of a copy: as a source, each image's own reference; as a target, DEST."""

from pathlib import Path
from typing import Dict, Optional, Set, Tuple

from skomirror.endpoints.contract import unreadable
from skomirror.imageref import DOCKER_TRANSPORT, ImageRef
from skomirror.manifests import Manifest, ManifestError, image_facts, parse_manifest
from skomirror.naming import MirrorName, RegistryDestination, registry_reference
from skomirror.planned import PlannedImage
from skomirror.platforms import select
from skomirror.records import ImageFacts, PlatformSelection
from skomirror.registry.client import Unsupported
from skomirror.registry.present import PresentBlobs, registry_blobs_present
from skomirror.skopeo.failures import classify
from skomirror.skopeo.processes import note
from skomirror.skopeo.retry import RetryPolicy, SkopeoFailed
from skomirror.skopeo.runner import SkopeoRunner

NO_SUCH_PLATFORM = "no listed platform"
SPARSE_REFUSED = "sparse index refused"
_REFUSED_AS_SPARSE = ("MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID")  # distribution 2.x: a child is missing
from skomirror.store import Store


class RegistryEndpoint:
    """As a source: each image's own reference. As a target: DEST's registry and namespace."""

    def __init__(self, destination: Optional[RegistryDestination] = None, max_nested_paths: int = 0):
        self.destination = destination
        self.max_nested_paths = max_nested_paths

    @property
    def store(self) -> Optional[Store]:
        return None

    def _reference(self, source: ImageRef, name: MirrorName) -> ImageRef:
        if self.destination is None:
            return source
        return registry_reference(self.destination, name, self.max_nested_paths)

    def spec(self, source: ImageRef, name: MirrorName) -> str:
        reference = self._reference(source, name)
        return reference.transport_spec if self.destination is None else f"{DOCKER_TRANSPORT}{reference}"

    def repository(self, source: ImageRef, name: MirrorName) -> str:
        return self._reference(source, name).repository

    def current_digest(self, image: PlannedImage, runner: SkopeoRunner, log: Path,
                       retry: Optional[RetryPolicy]) -> Optional[str]:
        """As a target: the digest under the image's destination tag, None when nothing is there."""
        return runner.manifest_digest(image.destination_spec, True, log, retry)

    def blobs_present(self, needed: Dict[str, Set[str]], runner: SkopeoRunner, threads: int) -> PresentBlobs:
        """As a target: which of the blobs each repository needs it holds already (see skomirror.registry.present)."""
        if runner.client is None:
            return {}
        return registry_blobs_present(needed, runner.client, threads, runner.children.stopping)

    def facts(self, image: PlannedImage, runner: SkopeoRunner, log: Path, retry: Optional[RetryPolicy]) -> ImageFacts:
        """As a source: the manifest and, for a multi-arch image, the manifest of each platform copied."""
        def read(reference: str) -> Tuple[bytes, Manifest]:
            raw = runner.manifest(reference, log, retry)
            try:
                return raw, parse_manifest(raw)
            except ManifestError as exc:
                raise unreadable("unreadable manifest", f"{reference}: {exc}") from None

        raw, manifest = read(image.source_spec)
        selection = None
        if image.platforms and manifest.is_index:
            try:
                selection = select(manifest, raw, image.platforms, image.origin)
            except ValueError as exc:
                raise unreadable(NO_SUCH_PLATFORM, str(exc)) from None
            if selection and selection.missing:
                note(log, f"platforms not in the source index, so not mirrored: {', '.join(selection.missing)}")
        kept = [child for child in manifest.children if selection is None or child.digest in selection.kept]
        children = [read(self.child_spec(image, child.digest))[1] for child in kept]
        return image_facts(manifest, children, selection)

    def child_spec(self, image: PlannedImage, digest: str) -> str:
        repository = image.source.repository if self.destination is None else self._reference(
            image.source, image.name).repository
        return f"{DOCKER_TRANSPORT}{repository}@{digest}"

    def put_index(self, image: PlannedImage, selection: PlatformSelection, runner: SkopeoRunner, log: Path) -> str:
        """The source's index as it is (sparse, same digest); where the registry refuses a sparse index, the
        index rewritten to the platforms copied, unless the image is pulled by digest (see README, Platforms)."""
        reference = self._reference(image.source, image.name)
        if runner.client is None:
            raise unreadable("cannot write the index", "an index of some platforms needs skomirror's HTTP client")

        def put(body: bytes) -> Tuple[int, str]:
            try:
                return runner.client.put_manifest(reference.registry, reference.path, reference.tag, body,
                                                  selection.media_type)
            except Unsupported as exc:
                raise SkopeoFailed(classify(str(exc))) from None

        status, error = put(selection.index)
        note(log, f"put the source's index {selection.index_digest} (without {', '.join(selection.dropped)}): "
                  f"HTTP {status} {error}".rstrip())
        if status in (200, 201):
            return selection.index_digest
        if not error.startswith(_REFUSED_AS_SPARSE):
            raise SkopeoFailed(classify(f"{reference}: HTTP {status} {error}"))
        if image.source.digest:
            raise unreadable(SPARSE_REFUSED, f"{self.destination.registry} refuses a sparse index ({error}) and "
                                             f"{image.origin} is pulled by digest, which an index rewritten to "
                                             f"{len(selection.kept)} platform(s) would change; remove its platforms "
                                             "or use a registry that accepts sparse indexes")
        status, error = put(selection.rewritten)
        note(log, f"the registry refuses a sparse index: put one of only the platforms copied, "
                  f"{selection.rewritten_digest}: HTTP {status} {error}".rstrip())
        if status not in (200, 201):
            raise SkopeoFailed(classify(f"{reference}: HTTP {status} {error}"))
        return selection.rewritten_digest
