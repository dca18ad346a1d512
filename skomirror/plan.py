"""The plan: which images to copy, where to, and in what order.

Pure data in, data out. Nothing here touches the network, so every naming
and filtering rule is unit-testable and a dry run shows exactly what a real
run would do.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from skomirror.collectors.types import CollectedImage
from skomirror.config.model import BlockedImage
from skomirror.errors import ConfigError
from skomirror.endpoints.contract import Endpoint
from skomirror.linear_regex import compile_pattern
from skomirror.naming import mirror_name
from skomirror.planned import PlannedImage


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
    """oc-mirror v2 searches each blockedImages regexp (unanchored) in the origin and in the destination, without
    their transport; in linear time, as Go's regexp does (skomirror.linear_regex)."""
    candidates = (origin.split("://", 1)[-1], destination.split("://", 1)[-1])
    for pattern in blocked:
        if any(compile_pattern(pattern.name).search(candidate) for candidate in candidates):
            return pattern
    return None


def _platforms_for_both(first: Tuple[str, ...], second: Tuple[str, ...]) -> Tuple[str, ...]:
    """One image wanted by two entries gets the platforms of both; () (every platform) wins."""
    if not first or not second:
        return ()
    return first + tuple(platform for platform in second if platform not in first)


def make_plan(
    collected: Sequence[CollectedImage],
    source: Endpoint,
    target: Endpoint,
    blocked: Sequence[BlockedImage] = (),
) -> Plan:
    images: List[PlannedImage] = []
    blocked_entries: List[BlockedEntry] = []
    by_destination: Dict[str, int] = {}  # destination spec -> its index in images
    duplicates = 0
    for item in collected:
        name = mirror_name(item.source, item.target_repo, item.target_tag)
        destination_spec = target.spec(item.source, name)
        pattern = _blocking_pattern(item.origin, destination_spec, blocked)
        if pattern is not None:
            blocked_entries.append(BlockedEntry(item, pattern))
            continue
        source_store = item.source_store or source.store
        source_spec = item.source_store.spec(name) if item.source_store else source.spec(item.source, name)
        planned = PlannedImage(item.source, name, source_spec, destination_spec,
                               target.repository(item.source, name), item.origin, item.kind, item.where,
                               source_store, item.requires, item.signs, item.platforms)
        index = by_destination.get(destination_spec)
        if index is not None:
            earlier = images[index]
            if earlier.source.pull_spec == planned.source.pull_spec:
                duplicates += 1
                wanted = _platforms_for_both(earlier.platforms, planned.platforms)
                if wanted != earlier.platforms:
                    images[index] = dataclasses.replace(earlier, platforms=wanted)
                continue
            raise ConfigError(
                f"{item.where}: {item.origin!r} and {earlier.origin!r} ({earlier.where}) would both be "
                f"mirrored to {planned.destination}; give one of them a targetRepo or targetTag")
        by_destination[destination_spec] = len(images)
        images.append(planned)
    images.sort(key=lambda image: image.kind.value)  # stable: ISC order within a kind
    return Plan(images, blocked_entries, duplicates)
