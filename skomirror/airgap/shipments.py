"""Shipments: what one mirror-to-disk run packed, and reading a shipment manifest back without trusting it.

A shipment is a set of parts (mirror_NNNNNN.tar) plus its manifest
(mirror_shipment_NNNN.json): every part's size, sha256 and file count, the
images with their digests, the blobs it carries and the earlier shipments it
builds on. Part numbers keep counting across shipments, so the parts of several
shipments can sit in one directory on the disconnected side and be applied in
order.

A manifest comes from across the air gap (or from a disk that may be damaged):
every key is checked for its type and shape before anything uses it, and a bad
one is named with its file and key on one line.
"""

import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

from skomirror.airgap.archive import PART_RE, Part
from skomirror.collectors.types import ImageKind
from skomirror.errors import InvalidReference, SkomirrorError
from skomirror.imageref import ImageRef, check_digest, check_repository_path, check_tag

MANIFEST_NAME = "mirror_shipment_{:04d}.json"
MANIFEST_RE = re.compile(r"mirror_shipment_(\d{4,})\.json\Z")
FORMAT = "skomirror.shipment/v1"
MAX_MANIFEST_BYTES = 64 * 1024 ** 2  # tens of thousands of images and blobs fit in a few MiB
_HEX = re.compile(r"[0-9a-f]{64}\Z")
# Opening a file from across the gap: never through a symlink, never waiting on a FIFO (checked as regular after).
READ_ONLY_HERE = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


@dataclass
class Shipment:
    id: int
    created: str  # ISO 8601, UTC
    parts: List[Part]
    blobs: List[str]  # digests carried by this shipment's parts
    images: List[Dict[str, Any]]  # name, digest, origin, source, kind, requires, signs
    based_on: List[int] = field(default_factory=list)  # shipments whose blobs were left out
    isc: str = ""  # where the ImageSetConfiguration is inside the parts

    @property
    def manifest_name(self) -> str:
        return MANIFEST_NAME.format(self.id)

    @property
    def metadata_dir(self) -> str:
        """Where the shipment's ISC and image list are inside its parts (and in the store)."""
        return f"skomirror/shipment-{self.id:04d}"

    @property
    def isc_path(self) -> str:
        return f"{self.metadata_dir}/isc.yaml"

    @property
    def created_date(self) -> date:
        return datetime.fromisoformat(self.created.replace("Z", "+00:00")).date()

    def same_parts(self, other: "Shipment") -> bool:
        """The same shipment, not merely the same number (two histories can both count from 1)."""
        return [(p.name, p.size, p.sha256) for p in self.parts] == [(p.name, p.size, p.sha256) for p in other.parts]

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT, "id": self.id, "created": self.created, "basedOn": self.based_on, "isc": self.isc,
            "parts": [part.to_json() for part in self.parts], "images": self.images, "blobs": self.blobs,
        }, indent=1) + "\n"


class DamagedShipment(SkomirrorError):
    """A shipment manifest (or a record made of one) that cannot be used as it is."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Checker:
    """Reads one key at a time, naming the key of the first thing wrong."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> DamagedShipment:
        problem = problem if len(problem) <= 200 else problem[:197] + "..."  # the value is cut, never the place
        return DamagedShipment(f"{self.path}: not a usable shipment manifest: key {key!r}: {problem}")

    def get(self, data: dict, key: str, kind: type, where: str = "", required: bool = True, default: Any = None):
        name = f"{where}.{key}" if where else key
        if key not in data or data[key] is None:
            if required:
                raise self.fail(name, "missing")
            return default
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(name, f"{_short(value)} is not {_KINDS[kind]}")
        if kind is int and value < 0:
            raise self.fail(name, f"{value} is negative")
        return value

    def strings(self, data: dict, key: str, where: str = "", required: bool = True) -> List[str]:
        values = self.get(data, key, list, where, required, [])
        name = f"{where}.{key}" if where else key
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise self.fail(f"{name}[{index}]", f"{_short(value)} is not a string")
        return values

    def checked(self, key: str, value: str, check) -> str:
        try:
            check(value)
        except (InvalidReference, ValueError) as exc:
            raise self.fail(key, str(exc)) from None
        return value


_KINDS = {int: "a whole number", str: "a string", list: "a list", dict: "an object"}


def _part(checker: _Checker, data: Any, where: str) -> Part:
    if not isinstance(data, dict):
        raise checker.fail(where, f"{_short(data)} is not an object")
    name = checker.get(data, "name", str, where)
    if not PART_RE.match(name):
        raise checker.fail(f"{where}.name", f"{_short(name)} is not a part name (mirror_NNNNNN.tar)")
    sha256 = checker.get(data, "sha256", str, where)
    if not _HEX.match(sha256):
        raise checker.fail(f"{where}.sha256", f"{_short(sha256)} is not 64 hex digits")
    return Part(name, checker.get(data, "size", int, where), sha256, checker.get(data, "files", int, where, False),
                checker.get(data, "fileBytes", int, where, False))


def _image(checker: _Checker, data: Any, where: str) -> Dict[str, Any]:
    if not isinstance(data, dict):
        raise checker.fail(where, f"{_short(data)} is not an object")
    name = checker.get(data, "name", str, where)
    path, _, tag = name.rpartition(":")
    checker.checked(f"{where}.name", path, check_repository_path)
    checker.checked(f"{where}.name", tag, check_tag)
    checker.checked(f"{where}.source", checker.get(data, "source", str, where), ImageRef.parse)
    digest = checker.get(data, "digest", str, where, False, "")
    if digest:
        checker.checked(f"{where}.digest", digest, check_digest)
    kind = checker.get(data, "kind", str, where, False, ImageKind.ADDITIONAL.name)
    if kind not in ImageKind.__members__:
        raise checker.fail(f"{where}.kind", f"{_short(kind)} is not one of {', '.join(ImageKind.__members__)}")
    signs = checker.get(data, "signs", str, where, False)
    if signs is not None:
        checker.checked(f"{where}.signs", signs, check_digest)
    return {"name": name, "digest": digest, "origin": checker.get(data, "origin", str, where),
            "source": data["source"], "kind": kind, "requires": checker.strings(data, "requires", where, False),
            "signs": signs}


def parse_shipment(data: Any, path: Path) -> Shipment:
    """A Shipment from decoded JSON, every key checked; raises DamagedShipment naming the first bad one."""
    checker = _Checker(path)
    if not isinstance(data, dict):
        raise DamagedShipment(f"{path}: not a usable shipment manifest: a JSON object is expected, "
                              f"not {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise checker.fail("format", f"{_short(data.get('format'))} is not {FORMAT}")
    shipment_id = checker.get(data, "id", int)
    match = MANIFEST_RE.match(path.name)
    if match and int(match.group(1)) != shipment_id:
        raise checker.fail("id", f"{shipment_id} does not match the file name")
    created = checker.get(data, "created", str)
    try:
        datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        raise checker.fail("created", f"{_short(created)} is not an ISO 8601 time") from None
    parts = [_part(checker, part, f"parts[{index}]") for index, part in enumerate(checker.get(data, "parts", list))]
    if len({part.name for part in parts}) != len(parts):
        raise checker.fail("parts", "a part is listed twice")
    blobs = checker.strings(data, "blobs")
    for index, blob in enumerate(blobs):
        checker.checked(f"blobs[{index}]", blob, check_digest)
    images = [_image(checker, image, f"images[{index}]")
              for index, image in enumerate(checker.get(data, "images", list))]
    based_on = checker.get(data, "basedOn", list, required=False, default=[])
    for index, earlier in enumerate(based_on):
        if not isinstance(earlier, int) or isinstance(earlier, bool):
            raise checker.fail(f"basedOn[{index}]", f"{_short(earlier)} is not a shipment number")
    shipment = Shipment(shipment_id, created, parts, blobs, images, based_on, checker.get(data, "isc", str))
    if shipment.isc != shipment.isc_path:
        raise checker.fail("isc", f"{_short(shipment.isc)} is not {shipment.isc_path}")
    return shipment


def read_shipment(path: Path) -> Shipment:
    """Read a manifest file: a regular file (not a symlink), of sane size, valid JSON, every key checked."""
    try:
        fd = os.open(str(path), READ_ONLY_HERE)
    except OSError as exc:
        why = "it is a symlink (refused: only files inside the directory are read)" if path.is_symlink() \
            else exc.strerror
        raise DamagedShipment(f"{path}: cannot read the shipment manifest: {why}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise DamagedShipment(f"{path}: not a regular file")
        if info.st_size > MAX_MANIFEST_BYTES:
            raise DamagedShipment(f"{path}: {info.st_size} bytes is too large for a shipment manifest")
        raw = handle.read(MAX_MANIFEST_BYTES + 1)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DamagedShipment(f"{path}: not a usable shipment manifest: not JSON "
                              f"({_short(str(exc))[1:-1]})") from None
    return parse_shipment(data, path)


def manifest_paths(directory: Path) -> List[Path]:
    """The shipment manifests in `directory` (by name), oldest first."""
    found = [path for path in directory.iterdir() if MANIFEST_RE.match(path.name)]
    return sorted(found, key=lambda path: int(MANIFEST_RE.match(path.name).group(1)))


def find_shipments(directory: Path) -> List[Shipment]:
    """Every shipment manifest in `directory`, oldest first; the first damaged one raises DamagedShipment."""
    return [read_shipment(path) for path in manifest_paths(directory)]


def part_number(part: Part) -> Optional[int]:
    match = PART_RE.match(part.name)
    return int(match.group(1)) if match else None


def shipments_in(directory: Path, named: str, hint: str) -> List["Shipment"]:
    """The shipments in `directory` (`named` as the user wrote it), or one line saying there are none and `hint`."""
    if not directory.is_dir():
        raise SkomirrorError(f"{named}: no such directory")
    shipments = find_shipments(directory)
    if not shipments:
        raise SkomirrorError(f"{named}: no shipment manifest (mirror_shipment_NNNN.json) found; {hint}")
    return shipments
