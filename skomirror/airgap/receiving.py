"""The disconnected side of the air gap (disk to mirror): receiving shipments into the workspace's store.

Every part of every new shipment is checked against its manifest, every tar
header is checked, and only then is anything unpacked.
"""

from pathlib import Path
from typing import Callable, Dict, List

from skomirror.airgap.archive import check_members, check_parts, extract_part
from skomirror.airgap.shipments import History, Shipment, find_shipments
from skomirror.airgap.space import check_space
from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import Where
from skomirror.errors import SkomirrorError
from skomirror.imageref import ImageRef
from skomirror.store import Store


def receive_shipments(from_dir: Path, store: Store, say: Callable[[str], None]) -> List[Shipment]:
    """Check, then unpack, every shipment in `from_dir` this store has not received yet; oldest first."""
    if not from_dir.is_dir():
        raise SkomirrorError(f"--from {from_dir}: no such directory")
    shipments = find_shipments(from_dir)
    if not shipments:
        raise SkomirrorError(f"--from {from_dir}: no shipment manifest (mirror_shipment_NNNN.json) found; "
                             "copy it along with the mirror_*.tar parts")
    received = History(store.root / "received")
    done = {shipment.id for shipment in received.shipments()}
    pending = [shipment for shipment in shipments if shipment.id not in done]
    problems = [f"shipment {s.id}: {problem}" for s in pending for problem in check_parts(from_dir, s.parts)]
    if problems:
        raise SkomirrorError(f"archive check failed in {from_dir}, nothing was pushed: {'; '.join(problems)}")
    check_members(from_dir / part.name for shipment in pending for part in shipment.parts)
    check_space(store.root, sum(part.size for shipment in pending for part in shipment.parts),
                f"unpacking {len(pending)} shipment(s)")
    for shipment in pending:
        missing = [earlier for earlier in shipment.based_on if earlier not in done]
        if missing:
            say(f"warning: shipment {shipment.id} builds on shipment(s) {missing}, which this workspace has not "
                "received; images that need their blobs fail unless the registry already has them")
        store.prepare()
        for part in shipment.parts:
            extract_part(from_dir / part.name, store.root)
        received.record(shipment)
        done.add(shipment.id)
        say(f"received shipment {shipment.id}: {len(shipment.parts)} part(s), {len(shipment.images)} images")
    return received.shipments()


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
