"""A shard's part of a run (`--shard K/N`): reading every source, keeping its share, and leaving shard.json.

Every shard reads the source manifests of the whole plan, not only of what the destination lacks: the cut
(skomirror.shards) must come out the same in every shard, and a shard that starts late finds the others'
images mirrored. The facts read are kept for the survey, which reads no source again. shard.json is what
`skomirror merge` needs beside results.json to write the files of one unsharded run.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from skomirror.cluster_resources import catalog_templates, release_signatures
from skomirror.config.model import ImageSetConfiguration
from skomirror.execution.executor import Executor
from skomirror.plan import Plan
from skomirror.planned import PlannedImage
from skomirror.progress import format_bytes, plural
from skomirror.records import ImageRecord
from skomirror.shards import Item, Shard, cut

SHARD_FILE = "shard.json"
FORMAT = "skomirror.shard/v1"


def image_key(image: PlannedImage) -> str:
    """Its name under DEST: the same in every shard, whatever directory a shard writes into."""
    return str(image.name)


def plan_fingerprint(plan: Plan) -> str:
    """Of what every shard must have planned alike; `merge` refuses shards whose fingerprints differ."""
    text = "".join(f"{image.kind.name} {image.source.pull_spec} {image_key(image)}\n" for image in plan.images)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ShardReport:
    shard: Shard
    planned: int  # images in the whole plan
    fingerprint: str
    index: Dict[str, int]  # destination spec of each image of the share -> its place in the whole plan
    bytes: int
    split: Tuple[int, int]  # blobs, bytes this shard needs that other shards need too
    unknown: int  # images whose source could not be read: placed by name alone
    notes: List[str] = field(default_factory=list)


def items_of(plan: Plan, facts: Dict[str, Optional[object]]) -> List[Item]:
    """Images built in the workspace (rebuilt catalogs, the graph image) count by name alone: their bytes may
    differ from one shard's build to another's, and they are pushed from there, not fetched."""
    key_of_source = {image.source.pull_spec: image_key(image) for image in plan.images}
    items = []
    for image in plan.images:
        known = facts.get(image.destination_spec) if image.source_store is None else None
        items.append(Item(image_key(image), known.written if known is not None else {},
                          tuple(key_of_source[spec] for spec in image.requires if spec in key_of_source)))
    return items


def take_share(plan: Plan, records: List[ImageRecord], executor: Executor, shard: Shard,
               say: Callable[[str], None]) -> Tuple[Plan, ShardReport]:
    """The plan of this shard alone; `records`: one per image of the whole plan, for reading its source."""
    say(f"shard {shard}: reading the source of all {plural(len(plan.images), 'planned image')} to cut the plan")
    facts = executor.read_sources([record for record in records if record.image.source_store is None])
    unknown = sum(facts.get(image.destination_spec) is None for image in plan.images if image.source_store is None)
    result = cut(items_of(plan, facts), shard.count)
    mine = [(position, image) for position, image in enumerate(plan.images)
            if result.shard_of[image_key(image)] == shard.index]
    report = ShardReport(shard, len(plan.images), plan_fingerprint(plan),
                         {image.destination_spec: position for position, image in mine},
                         result.bytes[shard.index], result.split_bytes(shard.index), unknown)
    line = (f"shard {shard}: {len(mine)} of {plural(len(plan.images), 'image')}, "
            f"{format_bytes(report.bytes)} (a fair share: {format_bytes(result.fair_share)})")
    blobs, split_bytes = report.split
    if blobs:
        line += (f"; {plural(blobs, 'blob')} ({format_bytes(split_bytes)}) also needed by other shards, each "
                 "fetching those the destination lacks")
    say(line)
    if unknown:
        report.notes.append(f"shard {shard}: {plural(unknown, 'source')} could not be read: placed by name alone; "
                            "`skomirror merge` checks that every image was taken by one shard")
        say(report.notes[-1])
    return Plan([image for _, image in mine], plan.blocked, plan.duplicates), report


def shard_record_text(report: ShardReport, records: List[ImageRecord], mode: str, shipments_dir: Optional[Path],
                      config: Optional[ImageSetConfiguration], signatures_dir: Optional[Path],
                      repository_scope: bool) -> str:
    """shard.json. signatures_dir: None when the run writes no cluster resources (mirror to disk, dry run)."""
    images = [{"index": report.index[record.image.destination_spec], "destination": record.image.destination_spec,
               "kind": record.image.kind.name, "upstream": str(record.image.source)}
              for record in records if record.image.destination_spec in report.index]
    resources = None
    if signatures_dir is not None:
        signatures = release_signatures(records, signatures_dir)
        resources = {"repositoryScope": repository_scope,
                     "templates": catalog_templates(config, lambda message: None),
                     "releaseSignatures": {digest: base64.b64encode(data).decode()
                                           for digest, data in sorted(signatures.items())}}
    blobs, split_bytes = report.split
    document = {"format": FORMAT, "shard": report.shard.index, "shards": report.shard.count,
                "plan": {"images": report.planned, "fingerprint": report.fingerprint},
                "mode": mode, "shipments": str(shipments_dir) if shipments_dir else None,
                "bytes": report.bytes, "splitBlobs": blobs, "splitBytes": split_bytes,
                "unreadSources": report.unknown, "images": images, "clusterResources": resources}
    return json.dumps(document, indent=1) + "\n"
