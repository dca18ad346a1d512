"""A registry as either end of a copy: as a source, each image's own reference; as a target, DEST."""

from pathlib import Path
from typing import Dict, Optional, Set

from skomirror.endpoints.contract import unreadable
from skomirror.imageref import DOCKER_TRANSPORT, ImageRef
from skomirror.manifests import ManifestError, image_facts, parse_manifest
from skomirror.naming import MirrorName, RegistryDestination, registry_reference
from skomirror.planned import PlannedImage
from skomirror.records import ImageFacts
from skomirror.registry.present import PresentBlobs, registry_blobs_present
from skomirror.skopeo.retry import RetryPolicy
from skomirror.skopeo.runner import SkopeoRunner
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
        """As a source: the manifest and, for a multi-arch image, each platform's manifest."""
        def read(reference: str):
            raw = runner.manifest(reference, log, retry)
            try:
                return parse_manifest(raw)
            except ManifestError as exc:
                raise unreadable("unreadable manifest", f"{reference}: {exc}") from None

        manifest = read(image.source_spec)
        children = [read(f"{DOCKER_TRANSPORT}{image.source.repository}@{child.digest}")
                    for child in manifest.children]
        return image_facts(manifest, children)
