"""The connected side of the air gap (mirror to disk): packing the store into a shipment.

After the copies, every blob the images need that no earlier shipment carried
is packed into parts, with the layouts, the ISC and the image list.
"""

import json
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from skomirror.airgap.archive import Entry, group_entries, member_bytes, write_part
from skomirror.airgap.history import History
from skomirror.airgap.shipments import Shipment
from skomirror.airgap.space import check_space
from skomirror.errors import SkomirrorError
from skomirror.files import UMASK_DECIDES, replace_file
from skomirror.manifests import ManifestError
from skomirror.progress import format_bytes
from skomirror.records import ImageRecord, Status
from skomirror.store import MissingFromStore, Store


def image_digests(record: ImageRecord, store: Store) -> Dict[str, Optional[int]]:
    """Every blob and manifest of an image, with sizes: the survey's when it saw the digest that was copied,
    else the store's manifest of that digest (a tag that moved after the survey, an image found there)."""
    facts = record.landed
    digest = None if facts is not None else record.digest or store.tagged_digest(record.image.name)
    if digest is not None:
        try:
            facts = store.facts(digest)
        except (MissingFromStore, ManifestError) as exc:
            if record.status.mirrored:
                raise SkomirrorError(f"no archive written: {record.image.name} ({digest}) is incomplete in the "
                                     f"store: {exc}; remove {store.layout(record.image.name)} and rerun") from None
    return {**facts.blobs, **facts.manifests} if facts is not None else {}


@dataclass
class ShippingPlan:
    new: Dict[str, Optional[int]]  # digest -> size of what this shipment carries
    based_on: List[int]


def shipping_plan(records: Iterable[ImageRecord], store: Store, history: History, since: Optional[date],
                  full: bool) -> ShippingPlan:
    needed: Dict[str, Optional[int]] = {}
    for record in records:
        needed.update(image_digests(record, store))
    shipped = {} if full else history.shipped(since)
    already: Set[str] = set().union(*shipped.values()) if shipped else set()
    based_on = sorted(shipment_id for shipment_id, blobs in shipped.items() if blobs & needed.keys())
    return ShippingPlan({digest: size for digest, size in needed.items() if digest not in already}, based_on)


def check_space_for_disk_run(records: List[ImageRecord], store: Store, history: History, since: Optional[date],
                             full: bool, archive_dir: Path) -> None:
    """Before the first byte is written: new blobs for the store plus the parts must fit."""
    to_download: Dict[str, int] = {}
    for record in records:
        if record.survey and record.survey.source and not record.survey.up_to_date:
            for digest, size in image_digests(record, store).items():
                if not store.has_blob(digest):
                    to_download[digest] = size or 0
    plan = shipping_plan(records, store, history, since, full)
    archive_bytes = sum(member_bytes(f"blobs/{digest}", size or 0) for digest, size in plan.new.items())
    needed = sum(to_download.values()) + archive_bytes
    check_space(archive_dir, needed, f"this run ({format_bytes(sum(to_download.values()))} of new blobs for the "
                                     f"store, {format_bytes(archive_bytes)} of archives)")


def write_shipment(records: List[ImageRecord], store: Store, archive_dir: Path, history: History, config: Path,
                   part_limit: Optional[int], since: Optional[date], full: bool,
                   say: Callable[[str], None], numbering: Tuple[int, int] = (0, 1)) -> Optional[Shipment]:
    """numbering: (shard, shards), whose numbers this shipment and its parts take (History.next_numbers)."""
    shipped = [record for record in records if record.status.mirrored]
    plan = shipping_plan(shipped, store, history, since, full)
    shipment_id, first_part = history.next_numbers(archive_dir, stride=numbering[1], offset=numbering[0])
    images = [{"name": str(r.image.name), "digest": r.digest or "", "origin": r.image.origin,
               "source": str(r.image.source), "kind": r.image.kind.name, "requires": list(r.image.requires),
               "signs": r.image.signs}
              for r in shipped]
    previous = {(image["name"], image["digest"]) for shipment in history.shipments() for image in shipment.images}
    if not plan.new and {(image["name"], image["digest"]) for image in images} <= previous and not full:
        say("nothing new to ship: every image and blob went out in an earlier shipment")
        return None

    metadata_dir = store.root / "skomirror" / f"shipment-{shipment_id:04d}"
    metadata_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config, metadata_dir / "isc.yaml")
    (metadata_dir / "images.json").write_text(json.dumps(images, indent=1) + "\n")
    entries = [_entry(store, path) for path in sorted(metadata_dir.iterdir())]
    for record in shipped:
        layout = store.layout(record.image.name)
        entries += [_entry(store, layout / "oci-layout"), _entry(store, layout / "index.json")]
    entries += [_entry(store, store.blob_path(digest)) for digest in sorted(plan.new)]
    signatures = store.signatures
    entries += [_entry(store, path) for path in sorted(signatures.glob("*"))] if signatures.is_dir() else []

    archive_dir.mkdir(parents=True, exist_ok=True)
    groups = group_entries(entries, part_limit)
    parts = []
    for offset, group in enumerate(groups):
        parts.append(write_part(archive_dir, first_part + offset * numbering[1], group))
        say(f"archive: wrote {parts[-1].name} ({format_bytes(parts[-1].size)})")
    if part_limit is not None:
        oversized = [part.name for part in parts if part.size > part_limit]
        if oversized:
            say(f"warning: {', '.join(oversized)} exceed the archive size: each holds one blob larger than it")
    shipment = Shipment(shipment_id, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), parts, sorted(plan.new),
                        images, plan.based_on, f"skomirror/shipment-{shipment_id:04d}/isc.yaml")
    manifest = archive_dir / shipment.manifest_name
    replace_file(manifest, shipment.to_json(), mode=UMASK_DECIDES)  # last: a shipment without it is incomplete
    history.record(shipment)
    return shipment


def _entry(store: Store, path: Path) -> Entry:
    return Entry(path.relative_to(store.root).as_posix(), path, path.stat().st_size)


def ship(records: List[ImageRecord], store: Store, archive_dir: Path, history: History, config: Path,
         part_limit: Optional[int], since: Optional[date], full: bool, keep_going: bool,
         say: Callable[[str], None], numbering: Tuple[int, int] = (0, 1)) -> Optional[Shipment]:
    """The last step of mirror to disk: a shipment of what was mirrored, unless images failed."""
    failed = sum(record.status == Status.FAILED for record in records)
    if failed and not keep_going:
        say(f"no archive written: {failed} image(s) failed; fix them and rerun (only what is "
            "missing is fetched), or pass --keep-going to archive what was mirrored")
        return None
    shipment = write_shipment(records, store, archive_dir, history, config, part_limit, since, full, say, numbering)
    if shipment:
        size = sum(part.size for part in shipment.parts)
        last = f" ... {shipment.parts[-1].name}" if len(shipment.parts) > 1 else ""
        say(f"shipment {shipment.id}: {len(shipment.parts)} part(s), {format_bytes(size)}, "
            f"{len(shipment.blobs)} blobs not shipped before; carry {shipment.parts[0].name}{last} "
            f"and {shipment.manifest_name} from {archive_dir}")
    return shipment
