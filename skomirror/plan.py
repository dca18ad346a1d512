"""The plan: which images to copy, where to, and in what order.

Pure data in, data out. Nothing here touches the network, so every naming
and filtering rule is unit-testable and a dry run shows exactly what a real
run would do.
"""

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Protocol, Sequence, Tuple

from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import BlockedImage, Where
from skomirror.errors import ConfigError
from skomirror.imageref import DOCKER_TRANSPORT, ImageRef
from skomirror.naming import MirrorName, mirror_name


class Endpoint(Protocol):
    """How an end of the copy names an image (see skomirror.endpoints)."""

    def spec(self, source: ImageRef, name: MirrorName) -> str: ...

    def repository(self, source: ImageRef, name: MirrorName) -> str: ...


@dataclass(frozen=True)
class PlannedImage:
    source: ImageRef  # the upstream image; pulled by digest when it has one
    name: MirrorName  # oc-mirror's name relative to DEST; always a tag
    source_spec: str  # what skopeo copies from: docker://... or oci:...
    destination_spec: str  # what skopeo copies to
    destination_repository: str  # copies into one repository are kept apart (see scheduler)
    origin: str
    kind: ImageKind
    where: Where
    source_store: Optional[object] = field(default=None, compare=False)  # the Store the source is read from
    requires: Tuple[str, ...] = ()

    @property
    def destination(self) -> str:
        """For people: the destination without `docker://`."""
        return self.destination_spec[len(DOCKER_TRANSPORT):] if self.destination_spec.startswith(
            DOCKER_TRANSPORT) else self.destination_spec

    @property
    def mapping_line(self) -> str:
        """oc-mirror's mapping.txt format: `docker://SRC=docker://DEST`."""
        return f"{self.source_spec}={self.destination_spec}"


@dataclass(frozen=True)
class BlockedEntry:
    image: CollectedImage
    pattern: BlockedImage


@dataclass(frozen=True)
class Plan:
    images: List[PlannedImage]
    blocked: List[BlockedEntry] = field(default_factory=list)
    duplicates: int = 0


def _blocking_pattern(origin: str, destination: str, blocked: Sequence[BlockedImage]):
    """oc-mirror matches each blockedImages regexp (unanchored) against origin and destination."""
    candidates = (origin.split("://", 1)[-1], destination.split("://", 1)[-1])
    for pattern in blocked:
        if any(re.search(pattern.name, candidate) for candidate in candidates):
            return pattern
    return None


def make_plan(
    collected: Sequence[CollectedImage],
    source: Endpoint,
    target: Endpoint,
    blocked: Sequence[BlockedImage] = (),
) -> Plan:
    images: List[PlannedImage] = []
    blocked_entries: List[BlockedEntry] = []
    by_destination: Dict[str, PlannedImage] = {}
    duplicates = 0
    for item in collected:
        name = mirror_name(item.source, item.target_repo, item.target_tag)
        destination_spec = target.spec(item.source, name)
        pattern = _blocking_pattern(item.origin, destination_spec, blocked)
        if pattern is not None:
            blocked_entries.append(BlockedEntry(item, pattern))
            continue
        source_store = item.source_store or getattr(source, "store", None)
        source_spec = item.source_store.spec(name) if item.source_store else source.spec(item.source, name)
        planned = PlannedImage(item.source, name, source_spec, destination_spec,
                               target.repository(item.source, name), item.origin, item.kind, item.where,
                               source_store, item.requires)
        earlier = by_destination.get(destination_spec)
        if earlier is not None:
            if earlier.source.pull_spec == planned.source.pull_spec:
                duplicates += 1
                continue
            raise ConfigError(
                f"{item.where}: {item.origin!r} and {earlier.origin!r} ({earlier.where}) would both be "
                f"mirrored to {planned.destination}; give one of them a targetRepo or targetTag")
        by_destination[destination_spec] = planned
        images.append(planned)
    images.sort(key=lambda image: image.kind.value)  # stable: ISC order within a kind
    return Plan(images, blocked_entries, duplicates)
