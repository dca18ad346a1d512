"""The disconnected side of the air gap (disk to mirror): receiving shipments into the workspace's store.

Only the directory given is read: manifests and parts that are its own
regular files, every key of every manifest checked. Every part of every new
shipment is checked against its manifest, every tar header against what the
manifest declares, and only then is anything unpacked. A shipment counts as
received once its images were pushed (`record_received`), not before.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Sequence

from skomirror.airgap.history import Received
from skomirror.airgap.shipments import Shipment, shipments_in
from skomirror.airgap.space import check_space
from skomirror.airgap.unpacking import Allowed, UnsafeArchive, check_members, check_parts, extract_part
from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import Where
from skomirror.errors import SkomirrorError
from skomirror.imageref import ImageRef
from skomirror.progress import UNPACKING, VERIFYING, Progress
from skomirror.records import ImageRecord
from skomirror.store import Store


@dataclass
class Reception:
    earlier: List[Shipment]  # received by earlier runs
    unpacked: List[Shipment] = field(default_factory=list)  # checked and unpacked now; received once pushed

    @property
    def shipments(self) -> List[Shipment]:
        """Everything received or being received, oldest first; a shipment unpacked now replaces its number."""
        fresh = {shipment.id for shipment in self.unpacked}
        return sorted([s for s in self.earlier if s.id not in fresh] + self.unpacked, key=lambda s: s.id)


def _verified(from_dir: Path, pending: Sequence[Shipment], progress: Progress) -> List[str]:
    """Every part read and its sha256 compared, with byte progress: hundreds of GiB take a while."""
    parts = [(shipment, part) for shipment in pending for part in shipment.parts]
    progress.start(VERIFYING, len(parts), sum(part.size for _, part in parts), noun="part")
    problems = []
    for shipment, part in parts:
        problems += [f"shipment {shipment.id}: {problem}" for problem in
                     check_parts(from_dir, [part], progress.add_bytes)]
        progress.step()
    progress.finish()
    return problems


def receive_shipments(from_dir: Path, store: Store, received: Received, progress: Progress) -> Reception:
    """Check, then unpack, every shipment in `from_dir` this workspace has not received yet; oldest first."""
    shipments = shipments_in(from_dir, f"--from {from_dir}", "copy it along with the mirror_*.tar parts")
    reception = Reception(received.shipments())
    pending = [shipment for shipment in shipments if not received.has(shipment)]
    for shipment in pending:
        if any(done.id == shipment.id for done in reception.earlier):
            received.warn(f"shipment {shipment.id} in {from_dir} is not the shipment {shipment.id} received "
                          "before (its parts differ): receiving it as a new one")
    problems = _verified(from_dir, pending, progress)
    if problems:
        raise SkomirrorError(f"archive check failed in {from_dir}, nothing was pushed: {'; '.join(problems)}")
    try:
        for shipment in pending:
            check_members(from_dir, shipment)
    except UnsafeArchive as unsafe:
        raise UnsafeArchive(f"archive check failed in {from_dir}, nothing was pushed: {unsafe}") from None
    check_space(store.root, sum(part.size for shipment in pending for part in shipment.parts),
                f"unpacking {len(pending)} shipment(s)")
    done = {shipment.id for shipment in reception.earlier}
    for shipment in pending:
        missing = [earlier for earlier in shipment.based_on if earlier not in done]
        if missing:
            received.warn(f"shipment {shipment.id} builds on shipment(s) {missing}, which this workspace has not "
                          "received; images that need their blobs fail unless the registry already has them")
        store.prepare()
        allowed = Allowed(shipment)
        progress.start(UNPACKING, len(shipment.parts), sum(part.size for part in shipment.parts), noun="part")
        for part in shipment.parts:
            extract_part(from_dir, part, store.root, allowed, progress.add_bytes)
            progress.step()
        progress.finish()
        reception.unpacked.append(shipment)
        done.add(shipment.id)
        progress.say(f"unpacked shipment {shipment.id}: {len(shipment.parts)} part(s), {len(shipment.images)} images")
    return reception


def record_received(reception: Reception, records: List[ImageRecord], received: Received,
                    say: Callable[[str], None]) -> None:
    """After the push: each shipment unpacked now whose images all reached the registry counts as received."""
    by_name: Dict[str, List[ImageRecord]] = {}
    for record in records:
        by_name.setdefault(str(record.image.name), []).append(record)
    for shipment in reception.unpacked:
        names = {image["name"] for image in shipment.images}
        left = sum(not record.status.mirrored for name in names for record in by_name.get(name, []))
        if left:
            say(f"shipment {shipment.id} is not recorded as received: {left} of its images did not reach the "
                "registry; rerun to push them")
            continue
        received.record(shipment)
        say(f"received shipment {shipment.id}")


def shipment_images(shipments: List[Shipment]) -> List[CollectedImage]:
    """What disk to mirror pushes: every image the received shipments carry, the newest shipment winning."""
    latest: Dict[str, CollectedImage] = {}  # a later shipment replaces the image but keeps its place
    for shipment in shipments:
        for index, entry in enumerate(shipment.images):
            path, _, tag = entry["name"].rpartition(":")
            latest[entry["name"]] = CollectedImage(ImageRef.parse(entry["source"]), entry["origin"],
                                                   ImageKind[entry.get("kind", ImageKind.ADDITIONAL.name)],
                                                   Where(shipment.manifest_name, 0, f"images[{index}]"), path, tag,
                                                   requires=tuple(entry.get("requires") or ()),
                                                   signs=entry.get("signs"))
    return list(latest.values())
