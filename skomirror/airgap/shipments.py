"""Shipments: what one mirror-to-disk run packed, and the history of what was shipped.

A shipment is a set of parts (mirror_NNNNNN.tar) plus its manifest
(mirror_shipment_NNNN.json): every part's size and sha256, the images with
their digests, the blobs it carries and the earlier shipments it builds on.
Part numbers keep counting across shipments, so the parts of several
shipments can sit in one directory on the disconnected side and be applied
in order.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from skomirror.airgap.archive import Part
from skomirror.errors import SkomirrorError

MANIFEST_NAME = "mirror_shipment_{:04d}.json"
_MANIFEST_RE = re.compile(r"mirror_shipment_(\d{4,})\.json\Z")
_PART_RE = re.compile(r"mirror_(\d{6})\.tar\Z")
FORMAT = "skomirror.shipment/v1"


@dataclass
class Shipment:
    id: int
    created: str  # ISO 8601, UTC
    parts: List[Part]
    blobs: List[str]  # digests carried by this shipment's parts
    images: List[Dict[str, str]]  # name, digest, origin, source, type
    based_on: List[int] = field(default_factory=list)  # shipments whose blobs were left out
    isc: str = ""  # where the ImageSetConfiguration is inside the parts

    @property
    def manifest_name(self) -> str:
        return MANIFEST_NAME.format(self.id)

    @property
    def created_date(self) -> date:
        return datetime.fromisoformat(self.created.replace("Z", "+00:00")).date()

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT, "id": self.id, "created": self.created, "basedOn": self.based_on, "isc": self.isc,
            "parts": [part.to_json() for part in self.parts], "images": self.images, "blobs": self.blobs,
        }, indent=1) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> "Shipment":
        try:
            data = json.loads(path.read_text())
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r} is not {FORMAT}")
            return cls(int(data["id"]), data["created"], [Part.from_json(p) for p in data["parts"]],
                       list(data["blobs"]), list(data["images"]), list(data.get("basedOn") or []),
                       data.get("isc", ""))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SkomirrorError(f"{path}: not a readable skomirror shipment manifest: {exc}") from None


def find_shipments(directory: Path) -> List[Shipment]:
    """Every shipment manifest in `directory`, oldest first."""
    found = [Shipment.from_file(path) for path in directory.iterdir() if _MANIFEST_RE.match(path.name)]
    return sorted(found, key=lambda shipment: shipment.id)


class History:
    """The mirror-to-disk side's record of shipped blobs, in the workspace (one manifest per shipment)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def shipments(self) -> List[Shipment]:
        return find_shipments(self.directory) if self.directory.is_dir() else []

    def shipped(self, since: Optional[date] = None) -> Dict[int, Set[str]]:
        """Blobs per earlier shipment; with `since`, only shipments made before that day count."""
        return {shipment.id: set(shipment.blobs) for shipment in self.shipments()
                if since is None or shipment.created_date < since}

    def record(self, shipment: Shipment) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{shipment.manifest_name}.tmp"
        temporary.write_text(shipment.to_json())
        temporary.replace(self.directory / shipment.manifest_name)

    def next_numbers(self, archive_dir: Path) -> Tuple[int, int]:
        """The next shipment id and part number, after both the history and what lies in `archive_dir`."""
        known = self.shipments() + (find_shipments(archive_dir) if archive_dir.is_dir() else [])
        last_id = max((shipment.id for shipment in known), default=0)
        part_numbers = [int(_PART_RE.match(part.name).group(1)) for shipment in known for part in shipment.parts
                        if _PART_RE.match(part.name)]
        return last_id + 1, max(part_numbers, default=0) + 1
