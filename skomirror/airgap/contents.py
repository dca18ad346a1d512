"""What the shipments in a directory hold, read where they lie: no part is extracted, nothing is written.

Every part is checked as disk to mirror checks it before unpacking (size and sha256 against the shipment
manifest, then every tar header). The images' manifests are then read straight out of the intact parts,
at the paths the store gives them (ArchivedStore), to tell each image's size and how much of it this
shipment carries; an image whose manifest went out in a shipment not in the directory has no size here.
"""

import dataclasses
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from skomirror.airgap.archive import Part
from skomirror.airgap.shipments import Shipment, shipments_in
from skomirror.airgap.unpacking import UnsafeArchive, check_members, check_parts
from skomirror.manifests import ManifestError
from skomirror.naming import MirrorName
from skomirror.store import MissingFromStore, Store


class ArchivedStore(Store):
    """The store that a directory's intact parts unpack into, read from the tars themselves.

    Its root only names paths (blobs/..., layouts/...) inside the parts: nothing under it is opened.
    """

    def __init__(self, directory: Path, parts: Iterable[Part]):
        super().__init__(directory)
        self._members: Dict[str, Tuple[Path, tarfile.TarInfo]] = {}
        for part in parts:
            path = directory / part.name
            with tarfile.open(path, mode="r:") as tar:
                for member in tar.getmembers():
                    if member.isfile():
                        self._members[member.name] = (path, member)

    def _read(self, path: Path) -> Optional[bytes]:
        found = self._members.get(path.relative_to(self.root).as_posix())
        if found is None:
            return None
        part, member = found
        with tarfile.open(part, mode="r:") as tar:
            return tar.extractfile(member).read()

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).relative_to(self.root).as_posix() in self._members

    def read_blob(self, digest: str) -> bytes:
        data = self._read(self.blob_path(digest))
        if data is None:
            raise MissingFromStore(f"{digest} is in none of the intact parts in {self.root}")
        return data

    def _layout_entries(self, name: MirrorName) -> list:
        try:
            entries = json.loads(self._read(self.layout(name) / "index.json") or b"{}").get("manifests")
        except (ValueError, AttributeError):
            return []
        return [entry for entry in entries or [] if isinstance(entry, dict)]


@dataclass
class PartState:
    part: Part
    problem: str = ""  # empty: present and intact


@dataclass
class ImageState:
    entry: Dict[str, str]  # as the shipment manifest lists it: name, digest, origin, source, kind, signs
    size: Optional[int] = None  # every blob and manifest it needs (its kept platforms); None: unknown here
    carried: Optional[int] = None  # of those, what this shipment carries


@dataclass
class ShipmentState:
    shipment: Shipment
    parts: List[PartState]
    images: List[ImageState] = field(default_factory=list)
    bases_here: List[int] = field(default_factory=list)  # shipments it builds on that are in the directory too

    @property
    def size(self) -> int:
        return sum(part.size for part in self.shipment.parts)

    @property
    def problems(self) -> List[str]:
        return [state.problem for state in self.parts if state.problem]


def _part_states(directory: Path, shipment: Shipment) -> List[PartState]:
    """Each part as disk to mirror checks it: present, size and sha256, then every tar header; a damaged part
    does not hide another (each intact part's headers are read on their own, then the shipment's as a whole)."""
    states = [PartState(part, (check_parts(directory, [part]) or [""])[0]) for part in shipment.parts]
    for state in states:
        if not state.problem:
            try:
                check_members(directory, dataclasses.replace(shipment, parts=[state.part]))
            except UnsafeArchive as exc:
                if not str(exc).startswith(f"shipment {shipment.id}: its ISC"):  # it may be in another part
                    state.problem = str(exc)
    if not any(state.problem for state in states):
        try:
            check_members(directory, shipment)
        except UnsafeArchive as exc:
            named = [state for state in states if str(exc).startswith(f"{state.part.name}:")]
            (named or states)[0].problem = str(exc)
    return states


def _image_state(entry: Dict[str, str], store: ArchivedStore, carried: set) -> ImageState:
    path, _, tag = str(entry.get("name") or "").rpartition(":")
    if not entry.get("digest") or not path:
        return ImageState(entry)
    try:
        facts = store.facts(entry["digest"], MirrorName(path, tag))
    except (MissingFromStore, ManifestError):
        return ImageState(entry)
    sizes = {**facts.blobs, **facts.manifests}
    known = None not in sizes.values()
    return ImageState(entry, sum(sizes.values()) if known else None,
                      sum(size for digest, size in sizes.items() if digest in carried) if known else None)


def describe_shipments(directory: Path) -> List[ShipmentState]:
    """Every shipment in `directory`, oldest first, with the state of its parts and the size of its images."""
    shipments = shipments_in(directory, str(directory), "a mirror to disk run writes one beside its mirror_*.tar "
                             "parts")
    states = [ShipmentState(shipment, _part_states(directory, shipment)) for shipment in shipments]
    store = ArchivedStore(directory, [p.part for state in states for p in state.parts if not p.problem])
    ids = {shipment.id for shipment in shipments}
    for state in states:
        carried = set(state.shipment.blobs)
        state.images = [_image_state(entry, store, carried) for entry in state.shipment.images]
        state.bases_here = [base for base in state.shipment.based_on if base in ids]
    return states
