"""Before copying: what each source holds and what the destination already has.

This is what makes a rerun cheap (an image already at the destination with
the same digest is skipped) and what gives the plan its sizes and blob sets.
An image pinned by digest costs one destination check when it is already
mirrored; a tag costs a destination check plus a source read. An image whose
tag is absent from its destination repository's tag list, read once for the
survey (see skomirror.registry.tags), costs no destination check.
"""

from pathlib import Path
from typing import Dict, Optional

from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.endpoints.store import StoreEndpoint
from skomirror.records import ImageFacts, Survey
from skomirror.planned import PlannedImage
from skomirror.registry.tags import DestinationTags
from skomirror.skopeo.processes import note
from skomirror.skopeo.retry import RetryPolicy, SkopeoFailed
from skomirror.skopeo.runner import SkopeoRunner


def source_endpoint(image: PlannedImage) -> Endpoint:
    """Where an image is read from: the store holding it, else its own registry."""
    return StoreEndpoint(image.source_store) if image.source_store else RegistryEndpoint()


class Surveyor:
    def __init__(self, runner: SkopeoRunner, target: Endpoint, retry: Optional[RetryPolicy] = None,
                 trusted: Optional[Dict[str, dict]] = None, known: Optional[Dict[str, ImageFacts]] = None,
                 destination_tags: Optional[DestinationTags] = None):
        self.runner = runner
        self.target = target
        self.retry = retry  # None: the run's policy
        self.trusted = trusted or {}  # destination -> journal entry of an unfinished series of runs
        self.known = known or {}  # destination -> the source's facts, read already (a shard reads every source)
        self.destination_tags = destination_tags  # None: a HEAD per image

    def _destination_digest(self, image: PlannedImage, log: Path) -> Optional[str]:
        tags = self.destination_tags
        if tags is not None and tags.lacks(image.destination_repository, image.destination_spec,
                                           lambda line: note(log, line)):
            note(log, f"inspect destination {image.destination}: not in its repository's tag list, absent")
            return None
        return self.target.current_digest(image, self.runner, log, self.retry)

    def survey(self, image: PlannedImage, log: Path) -> Survey:
        """The destination first, so an unreachable one shows at once; the source only when needed.

        Never raises for one image's problem: the failure is recorded on the survey instead.
        """
        result = Survey(source_digest=image.source.digest, failed_on_destination=True)
        entry = self.trusted.get(image.destination_spec)
        if entry and entry.get("source") == image.source_spec and not result.source_digest:
            result.source_digest = entry["digest"]  # the journal's word, checked against the destination below
        known = self.known.get(image.destination_spec)
        if known is not None:
            result.source, result.source_digest = known, known.digest
        try:
            result.destination_digest = self._destination_digest(image, log)
            result.failed_on_destination = False
            if not result.up_to_date and known is None:
                result.source_digest = image.source.digest
                result.source = source_endpoint(image).facts(image, self.runner, log, self.retry)
                result.source_digest = result.source.digest
        except SkopeoFailed as failed:
            result.failure = failed.failure
        return result
