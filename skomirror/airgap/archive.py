"""Archive parts: packing files into size-capped tars (skomirror.airgap.unpacking reads them back).

A part never splits a file: a blob larger than the cap gets a part of its own.
Every part's sha256, file count and file bytes are computed while it is
written, so the other side of the air gap can check a part against its manifest
before it unpacks anything.
"""

import hashlib
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, List, Optional

BLOCK = 512
RECORD = 20 * BLOCK  # tarfile pads an archive to a multiple of this
PART_NAME = "mirror_{:06d}.tar"
PART_RE = re.compile(r"mirror_(\d{6})\.tar\Z")


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
    files: Optional[int] = None  # how many files it holds (None in manifests older than this key)
    file_bytes: Optional[int] = None  # their sizes added up

    def to_json(self) -> dict:
        declared = {"files": self.files, "fileBytes": self.file_bytes} if self.files is not None else {}
        return {"name": self.name, "size": self.size, "sha256": self.sha256, **declared}


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
    return Part(name, writer.size, writer.digest.hexdigest(), len(entries), sum(entry.size for entry in entries))
