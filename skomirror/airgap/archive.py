"""Archive parts: packing files into size-capped tars, checking them, unpacking them safely.

A part never splits a file: a blob larger than the cap gets a part of its own.
Every part's sha256 is computed while it is written, so checking a shipment on
the other side of the air gap reads each part once, before anything is pushed.
"""

import hashlib
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, List, Optional

from skomirror.errors import SkomirrorError

BLOCK = 512
RECORD = 20 * BLOCK  # tarfile pads an archive to a multiple of this
PART_NAME = "mirror_{:06d}.tar"


def _tar_info(arcname: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(arcname)
    info.size = size
    info.mode = 0o644
    return info


def member_bytes(arcname: str, size: int) -> int:
    """A file's exact cost in a tar: its header blocks (long names take more) plus its data in whole blocks."""
    header = len(_tar_info(arcname, size).tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING, "surrogateescape"))
    return header + -(-size // BLOCK) * BLOCK


@dataclass(frozen=True)
class Entry:
    arcname: str  # relative POSIX path inside the tar
    path: Path  # the file on disk
    size: int


@dataclass(frozen=True)
class Part:
    name: str
    size: int
    sha256: str

    def to_json(self) -> dict:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: dict) -> "Part":
        return cls(data["name"], int(data["size"]), data["sha256"])


def group_entries(entries: Iterable[Entry], limit: Optional[int]) -> List[List[Entry]]:
    """Fill parts in order, each at most `limit` bytes of tar; a file too big for any part goes alone."""
    budget = None if limit is None else limit - RECORD - 2 * BLOCK
    groups: List[List[Entry]] = [[]]
    used = 0
    for entry in entries:
        cost = member_bytes(entry.arcname, entry.size)
        if budget is not None and groups[-1] and used + cost > budget:
            groups.append([])
            used = 0
        groups[-1].append(entry)
        used += cost
    return [group for group in groups if group] or [[]]


class _HashingWriter:
    """A write-only file that hashes what passes through, so a part is never read back to be hashed."""

    def __init__(self, target: BinaryIO):
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.target.flush()


def write_part(directory: Path, number: int, entries: List[Entry]) -> Part:
    """Write one part under a temporary name and rename it when complete."""
    name = PART_NAME.format(number)
    final = directory / name
    partial = directory / f".{name}.partial"
    with open(partial, "wb") as raw:
        writer = _HashingWriter(raw)
        with tarfile.open(fileobj=writer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for entry in entries:
                with open(entry.path, "rb") as source:
                    tar.addfile(_tar_info(entry.arcname, entry.size), source)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, final)
    return Part(name, writer.size, writer.digest.hexdigest())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_parts(directory: Path, parts: Iterable[Part]) -> List[str]:
    """Problems with the parts in `directory`, one phrase each; empty when every part is intact."""
    problems = []
    for part in parts:
        path = directory / part.name
        if not path.is_file():
            problems.append(f"{part.name} is missing")
        elif path.stat().st_size != part.size:
            problems.append(f"{part.name} is {path.stat().st_size} bytes, expected {part.size} (truncated?)")
        elif sha256_of(path) != part.sha256:
            problems.append(f"{part.name} is corrupt (sha256 differs from the shipment manifest)")
    return problems


class UnsafeArchive(SkomirrorError):
    pass


def _checked_members(tar: tarfile.TarFile, part: Path) -> List[tarfile.TarInfo]:
    """Only plain files and directories with relative paths that stay inside the target."""
    members = tar.getmembers()
    for member in members:
        path = PurePosixPath(member.name)
        if member.name.startswith("/") or path.is_absolute() or ".." in path.parts:
            raise UnsafeArchive(f"{part.name}: refusing member {member.name!r}: it would be written outside the "
                                "target directory")
        if not (member.isfile() or member.isdir()):
            raise UnsafeArchive(f"{part.name}: refusing member {member.name!r}: links and special files are not "
                                "part of a skomirror archive")
    return members


def check_members(parts: Iterable[Path]) -> None:
    """Read every header of every part before anything is extracted; a bad member refuses them all."""
    for part in parts:
        try:
            with tarfile.open(part, mode="r:") as tar:
                _checked_members(tar, part)
        except tarfile.TarError as exc:
            raise UnsafeArchive(f"{part.name}: not a readable tar archive: {exc}") from None


def extract_part(part: Path, target: Path) -> int:
    """Unpack one (already checked) part into `target`; each file lands by rename, never half written."""
    target = target.resolve()
    count = 0
    with tarfile.open(part, mode="r:") as tar:
        for member in _checked_members(tar, part):
            destination = (target / member.name).resolve()
            if destination != target and target not in destination.parents:
                raise UnsafeArchive(f"{part.name}: refusing member {member.name!r}: it resolves outside {target}")
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            temporary = destination.with_name(f".{destination.name}.extracting")
            source = tar.extractfile(member)
            with open(temporary, "wb") as out:
                while True:
                    chunk = source.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
            os.replace(temporary, destination)
            count += 1
    return count
