"""Before copying: what each source holds and what the destination already has.

This is what makes a rerun cheap (an image already at the destination with
the same digest is skipped) and what gives the plan its sizes and blob sets.
An image pinned by digest costs one destination check when it is already
mirrored; a tag costs a destination check plus a source read.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

from skomirror.failures import Failure, Kind
from skomirror.manifests import Manifest, ManifestError, parse_manifest
from skomirror.plan import PlannedImage
from skomirror.retry import RetryPolicy, SkopeoFailed
from skomirror.runner import SkopeoRunner


@dataclass(frozen=True)
class SourceFacts:
    manifest: Manifest
    blobs: Dict[str, Optional[int]]  # every config and layer of every platform -> size
    manifests: Tuple[str, ...]  # the digests of the manifest and its per-platform children

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def size(self) -> Optional[int]:
        """Bytes a copy moves at most, or None when a size is unknown (schema 1)."""
        if any(size is None for size in self.blobs.values()):
            return None
        return sum(self.blobs.values())


@dataclass
class Survey:
    source: Optional[SourceFacts] = None
    source_digest: Optional[str] = None
    destination_digest: Optional[str] = None
    failure: Optional[Failure] = None
    failed_on_destination: bool = False

    @property
    def up_to_date(self) -> bool:
        return self.destination_digest is not None and self.destination_digest == self.source_digest


class Surveyor:
    def __init__(self, runner: SkopeoRunner, retry: Optional[RetryPolicy] = None):
        self.runner = runner
        self.retry = retry  # None: the run's policy

    def destination_digest(self, image: PlannedImage, log: Path) -> Optional[str]:
        """The digest now under the destination tag, or None when nothing is there yet."""
        try:
            raw = self.runner.inspect_raw(f"docker://{image.destination}", True, log, self.retry)
        except SkopeoFailed as failed:
            if failed.failure.not_found:
                return None
            raise
        return parse_manifest(raw).digest

    def source_facts(self, image: PlannedImage, log: Path) -> SourceFacts:
        manifest = self._manifest(image.source.transport_spec, log)
        manifests = [manifest.digest]
        blobs: Dict[str, Optional[int]] = {}
        images = [manifest]
        if manifest.is_index:
            images = [self._manifest(f"docker://{image.source.repository}@{child.digest}", log)
                      for child in manifest.children]
            manifests += [child.digest for child in images]
        for single in images:
            for blob in single.blobs:
                blobs[blob.digest] = blob.size
        return SourceFacts(manifest, blobs, tuple(manifests))

    def _manifest(self, reference: str, log: Path) -> Manifest:
        raw = self.runner.inspect_raw(reference, False, log, self.retry)
        try:
            return parse_manifest(raw)
        except ManifestError as exc:
            raise SkopeoFailed(Failure(Kind.PERMANENT, "unreadable manifest", f"{reference}: {exc}")) from None

    def survey(self, image: PlannedImage, log: Path) -> Survey:
        """The destination first, so an unreachable one shows at once; the source only when needed.

        Never raises for one image's problem: the failure is recorded on the survey instead.
        """
        result = Survey(source_digest=image.source.digest, failed_on_destination=True)
        try:
            result.destination_digest = self.destination_digest(image, log)
            result.failed_on_destination = False
            if not result.up_to_date:
                result.source = self.source_facts(image, log)
                result.source_digest = result.source.digest
        except SkopeoFailed as failed:
            result.failure = failed.failure
        return result
