"""What the planner, the survey and the executor ask of an end of a copy, written once.

The plan asks an endpoint for names only; the survey asks it what it holds;
the executor asks a target which blobs it has before copying.
"""

from pathlib import Path
from typing import Dict, Optional, Protocol, Set

from skomirror.imageref import ImageRef
from skomirror.naming import MirrorName
from skomirror.planned import PlannedImage
from skomirror.records import Failure, FailureKind, ImageFacts, PlatformSelection
from skomirror.registry.present import PresentBlobs
from skomirror.skopeo.retry import RetryPolicy, SkopeoFailed
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.store import Store


class Endpoint(Protocol):
    @property
    def store(self) -> Optional[Store]:
        """The on-disk store behind this end; None for a registry."""

    def spec(self, source: ImageRef, name: MirrorName) -> str:
        """What skopeo copies from or to for this image (docker://... or oci:...)."""

    def repository(self, source: ImageRef, name: MirrorName) -> str:
        """Where copies must be kept apart: the scheduler never races two writers into one."""

    def current_digest(self, image: PlannedImage, runner: SkopeoRunner, log: Path,
                       retry: Optional[RetryPolicy]) -> Optional[str]:
        """As a target: the digest held under the image's destination name; None when nothing is there."""

    def blobs_present(self, needed: Dict[str, Set[str]], runner: SkopeoRunner, threads: int) -> PresentBlobs:
        """As a target: of the blobs each repository needs, those it holds already."""

    def facts(self, image: PlannedImage, runner: SkopeoRunner, log: Path, retry: Optional[RetryPolicy]) -> ImageFacts:
        """As a source: the manifest and, for a multi-arch image, each platform's copied; raises SkopeoFailed."""

    def child_spec(self, image: PlannedImage, digest: str) -> str:
        """Either end: one platform's manifest of a multi-arch image, for copying it on its own."""

    def put_index(self, image: PlannedImage, selection: PlatformSelection, runner: SkopeoRunner, log: Path) -> str:
        """As a target: the index standing for the platforms copied, under the image's name; returns its digest."""


def unreadable(reason: str, message: str) -> SkopeoFailed:
    """How an endpoint says an image cannot be read and retrying will not help."""
    return SkopeoFailed(Failure(FailureKind.PERMANENT, reason, message))

