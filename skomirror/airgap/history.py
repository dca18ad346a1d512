"""skomirror's own records of shipments: what was shipped (connected side) and what was received (disconnected).

Each is a directory of shipment manifests. What was shipped lives with the
`file://` destination (DEST/history), so a run from any working directory
ships only what no earlier shipment carried; what was received lives in the
workspace (WORKSPACE/received), outside the store that archives unpack into, so
nothing inside an archive can write it. Both were kept elsewhere by earlier
versions (WORKSPACE/history, WORKSPACE/store/received): those are read when the
new place has no record yet and copied there with the next record.

A damaged record is set aside (renamed `*.damaged`) with a warning: what it
said is then not known, so more is shipped or unpacked again, never less.
"""

from datetime import date
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

from skomirror.airgap.shipments import (MANIFEST_RE, DamagedShipment, Shipment, manifest_paths, part_number,
                                        read_shipment)
from skomirror.files import UMASK_DECIDES, replace_file
from skomirror.store import Store

Warn = Callable[[str], None]
DAMAGED = ".damaged"


def _ignore(message: str) -> None:
    pass


class ShipmentRecords:
    """A directory of shipment manifests skomirror wrote for itself."""

    consequence = "what it recorded is not known"  # of a record set aside
    not_adopted = ""  # why records of the legacy place were left out

    def __init__(self, directory: Path, warn: Optional[Warn] = None, legacy: Optional[Path] = None):
        self.directory = directory
        self.legacy = legacy
        self.warn = warn or _ignore
        self._read: Optional[List[Shipment]] = None
        self._adopted: List[Shipment] = []  # read from the legacy place, not copied yet

    def _records(self, directory: Path) -> List[Shipment]:
        found = []
        for path in manifest_paths(directory) if directory.is_dir() else []:
            try:
                found.append(read_shipment(path))
            except DamagedShipment as damaged:
                aside = path.with_name(path.name + DAMAGED)
                path.replace(aside)
                self.warn(f"{damaged}; set aside as {aside.name}: {self.consequence}")
        return found

    def adopt(self, shipment: Shipment) -> bool:
        """Whether a record of the legacy place belongs here."""
        return True

    def shipments(self) -> List[Shipment]:
        if self._read is None:
            self._read = self._records(self.directory)
            if not self._read and not self.set_aside_ids() and self.legacy is not None and self.legacy.is_dir():
                legacy = self._records(self.legacy)
                self._adopted = [shipment for shipment in legacy if self.adopt(shipment)]
                if self._adopted:
                    self.warn(f"{len(self._adopted)} shipment record(s) read from {self.legacy}, where an earlier "
                              f"skomirror kept them; they move to {self.directory} with the next record")
                if len(legacy) > len(self._adopted):
                    left_out = [s.manifest_name for s in legacy if s not in self._adopted]
                    self.warn(f"{len(left_out)} shipment record(s) in {self.legacy} left out ({left_out[0]}"
                              f"{', ...' if len(left_out) > 1 else ''}): {self.not_adopted}")
                self._read = list(self._adopted)
        return self._read

    def set_aside_ids(self) -> Set[int]:
        """Numbers of records set aside as damaged: never given to a new shipment."""
        if not self.directory.is_dir():
            return set()
        return {int(match.group(1)) for match in (MANIFEST_RE.match(path.name[:-len(DAMAGED)])
                                                  for path in self.directory.glob(f"*{DAMAGED}")) if match}

    def _write(self, shipment: Shipment) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        replace_file(self.directory / shipment.manifest_name, shipment.to_json(), mode=UMASK_DECIDES)

    def record(self, shipment: Shipment) -> None:
        for adopted in self._adopted:
            if not (self.directory / adopted.manifest_name).exists():
                self._write(adopted)
        self._adopted = []
        self._write(shipment)
        self._read = [s for s in self.shipments() if s.id != shipment.id] + [shipment]
        self._read.sort(key=lambda s: s.id)


class History(ShipmentRecords):
    """What earlier shipments from one `file://` destination carried (the connected side)."""

    consequence = "the blobs it shipped are shipped again"

    def __init__(self, destination: Path, warn: Optional[Warn] = None, legacy: Optional[Path] = None,
                 store: Optional[Store] = None):
        super().__init__(destination / "history", warn, legacy)
        self.store = store

    not_adopted = "this destination's store lacks blobs they carried, so they were made from another one"

    def adopt(self, shipment: Shipment) -> bool:
        """A workspace could serve several destinations: a shipment belongs to this one if its store has every blob."""
        return self.store is None or all(self.store.has_blob(blob) for blob in shipment.blobs)

    def shipped(self, since: Optional[date] = None) -> Dict[int, Set[str]]:
        """Blobs per earlier shipment; with `since`, only shipments made before that day count."""
        return {shipment.id: set(shipment.blobs) for shipment in self.shipments()
                if since is None or shipment.created_date < since}

    def next_numbers(self, archive_dir: Path, stride: int = 1, offset: int = 0) -> Tuple[int, int]:
        """The next shipment id and part number, after the history and every manifest lying in `archive_dir`.

        Shard `offset` of `stride` takes only numbers that are `offset + 1` modulo `stride`, and numbers its parts
        `stride` apart: the shipments of all shards can then lie in one directory (see skomirror.airgap.gathering).
        """
        known = list(self.shipments())
        ids = {shipment.id for shipment in known} | self.set_aside_ids()
        for path in manifest_paths(archive_dir) if archive_dir.is_dir() else []:
            ids.add(int(MANIFEST_RE.match(path.name).group(1)))
            try:
                known.append(read_shipment(path))
            except DamagedShipment:
                pass  # its number is taken all the same
        numbers = [number for shipment in known for number in map(part_number, shipment.parts) if number]

        def after(highest: int) -> int:  # the least number past `highest` that is offset + 1 modulo stride
            return highest + 1 + (offset - highest) % stride

        return after(max(ids, default=0)), after(max(numbers, default=0))


class Received(ShipmentRecords):
    """The shipments a disconnected workspace has checked, unpacked and pushed."""

    consequence = "that shipment counts as not received"

    def __init__(self, directory: Path, store: Store, warn: Optional[Warn] = None):
        super().__init__(directory, warn, legacy=store.root / "received")

    def has(self, shipment: Shipment) -> bool:
        """Received already: the same number with the same parts (two histories may both count from 1)."""
        return any(shipment.id == done.id and shipment.same_parts(done) for done in self.shipments())
