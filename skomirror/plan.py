"""The plan: which images to copy, where to, and in what order.

Pure data in, data out. Nothing here touches the network, so every naming
and filtering rule is unit-testable and a dry run shows exactly what a real
run would do.
"""

import re
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import BlockedImage, Where
from skomirror.errors import ConfigError
from skomirror.imageref import DOCKER_TRANSPORT, ImageRef
from skomirror.naming import RegistryDestination, mirror_destination


@dataclass(frozen=True)
class PlannedImage:
    source: ImageRef  # pulled by digest when it has one
    destination: ImageRef  # always pushed by tag
    origin: str
    kind: ImageKind
    where: Where

    @property
    def mapping_line(self) -> str:
        """oc-mirror's mapping.txt format: `docker://SRC=docker://DEST`."""
        return f"{self.source.transport_spec}={DOCKER_TRANSPORT}{self.destination}"


@dataclass(frozen=True)
class BlockedEntry:
    image: CollectedImage
    pattern: BlockedImage


@dataclass(frozen=True)
class Plan:
    images: List[PlannedImage]
    blocked: List[BlockedEntry] = field(default_factory=list)
    duplicates: int = 0


def _blocking_pattern(origin: str, destination: ImageRef, blocked: Sequence[BlockedImage]):
    """oc-mirror matches each blockedImages regexp (unanchored) against origin and destination."""
    candidates = (origin.split("://", 1)[-1], str(destination))
    for pattern in blocked:
        if any(re.search(pattern.name, candidate) for candidate in candidates):
            return pattern
    return None


def make_plan(
    collected: Sequence[CollectedImage],
    destination: RegistryDestination,
    blocked: Sequence[BlockedImage] = (),
    max_nested_paths: int = 0,
) -> Plan:
    images: List[PlannedImage] = []
    blocked_entries: List[BlockedEntry] = []
    by_destination: Dict[ImageRef, PlannedImage] = {}
    duplicates = 0
    for item in collected:
        target = mirror_destination(item.source, destination, item.target_repo, item.target_tag, max_nested_paths)
        pattern = _blocking_pattern(item.origin, target, blocked)
        if pattern is not None:
            blocked_entries.append(BlockedEntry(item, pattern))
            continue
        planned = PlannedImage(item.source, target, item.origin, item.kind, item.where)
        earlier = by_destination.get(target)
        if earlier is not None:
            if earlier.source.pull_spec == planned.source.pull_spec:
                duplicates += 1
                continue
            raise ConfigError(
                f"{item.where}: {item.origin!r} and {earlier.origin!r} ({earlier.where}) would both be "
                f"mirrored to {target}; give one of them a targetRepo or targetTag")
        by_destination[target] = planned
        images.append(planned)
    images.sort(key=lambda image: image.kind.value)  # stable: ISC order within a kind
    return Plan(images, blocked_entries, duplicates)
