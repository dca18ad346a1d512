"""Reading parts from across the air gap: only inside the directory given, only what the manifest declares.

A part is opened without following symlinks. Before anything is unpacked,
its size and sha256 are checked against the manifest, then every header is
walked without reading data (a header of metadata larger than any skomirror
writes, more files or more bytes than declared, a sparse or global header:
refused), then every member name is checked against what the manifest says
the shipment holds: its blobs, its images' layouts, its own ISC and image list,
release signatures. Nothing else (no `received/` record, no link, no path out)
can be written.
"""

import hashlib
import os
import re
import stat
import tarfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterable, List, Optional, Set, Tuple

from skomirror.airgap.archive import BLOCK, Part
from skomirror.airgap.shipments import READ_ONLY_HERE, Shipment
from skomirror.errors import SkomirrorError
from skomirror.naming import MirrorName
from skomirror.store import Store

MAX_METADATA = 1 << 20  # a pax or GNU long-name header: a few hundred bytes in what skomirror writes
MAX_UNDECLARED_SIGNATURES = 10_000  # manifests older than the `files` key: release signatures are few
_SIGNATURE = re.compile(r"signatures/sha256-[0-9a-f]{64}-\d+\Z")
_PAX_SIZE = re.compile(rb"(?:^|\n)\d+ size=(\d+)\n")
_DATA_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_META_TYPES = (tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)


class UnsafeArchive(SkomirrorError):
    pass


def open_part(directory: Path, name: str) -> BinaryIO:
    """A part file for reading: a regular file in `directory` itself, never through a symlink."""
    path = directory / name
    if path.is_symlink():
        raise UnsafeArchive(f"{path}: a symlink is refused: --from reads only the files inside it")
    fd = os.open(str(path), READ_ONLY_HERE)
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise UnsafeArchive(f"{path}: not a regular file")
    return handle


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return _sha256(handle)


OnBytes = Optional[Callable[[int], None]]  # told of the bytes read, as they are read: the console's progress


def _sha256(handle: BinaryIO, on_bytes: OnBytes = None) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
        if on_bytes is not None:
            on_bytes(len(chunk))
    return digest.hexdigest()


def check_parts(directory: Path, parts: Iterable[Part], on_bytes: OnBytes = None) -> List[str]:
    """Problems with the parts in `directory`, one phrase each; empty when every part is intact."""
    problems = []
    for part in parts:
        if not os.path.lexists(directory / part.name):
            problems.append(f"{part.name} is missing")
            continue
        try:
            with open_part(directory, part.name) as handle:
                size = os.fstat(handle.fileno()).st_size
                if size != part.size:
                    problems.append(f"{part.name} is {size} bytes, expected {part.size} (truncated?)")
                elif _sha256(handle, on_bytes) != part.sha256:
                    problems.append(f"{part.name} is corrupt (sha256 differs from the shipment manifest)")
        except UnsafeArchive as exc:
            problems.append(str(exc).replace(f"{directory / part.name}: ", f"{part.name}: "))
        except OSError as exc:
            problems.append(f"{part.name} cannot be read: {exc.strerror}")
    return problems


def _scan_headers(handle: BinaryIO, part: Part, most_files: int, most_members: int) -> Tuple[int, int]:
    """(files, their bytes) of a tar, walked header by header without reading data; refuses what is not ours."""
    files = data = members = 0
    pax_size: Optional[int] = None
    while True:
        block = handle.read(BLOCK)
        if len(block) < BLOCK:
            raise UnsafeArchive(f"{part.name}: not a readable tar archive: it ends inside a header")
        if block == bytes(BLOCK):
            return files, data
        try:
            size = tarfile.nti(block[124:136])
        except tarfile.TarError:
            raise UnsafeArchive(f"{part.name}: not a readable tar archive: a header is damaged") from None
        kind = block[156:157]
        if kind in _META_TYPES:
            if size > MAX_METADATA:
                raise UnsafeArchive(f"{part.name}: a {size}-byte metadata header is refused")
            meta = handle.read(-(-size // BLOCK) * BLOCK)
            if kind == tarfile.XHDTYPE:
                found = _PAX_SIZE.search(meta[:size])
                pax_size = int(found.group(1)) if found else None
            continue
        if kind not in _DATA_TYPES + (tarfile.DIRTYPE,):
            what = "sparse files and global headers are" if kind in (tarfile.GNUTYPE_SPARSE, tarfile.XGLTYPE) \
                else "links and special files are"
            raise UnsafeArchive(f"{part.name}: refusing a member of type {kind!r}: {what} not part of a skomirror "
                                "archive")
        size = pax_size if pax_size is not None else size
        pax_size = None
        members += 1
        if kind != tarfile.DIRTYPE:
            files += 1
            data += size
        if files > most_files or members > most_members:
            raise UnsafeArchive(f"{part.name}: holds more than the {most_files} file(s) its manifest declares")
        if data > part.size:
            raise UnsafeArchive(f"{part.name}: its members claim more bytes than the part holds")
        handle.seek(-(-size // BLOCK) * BLOCK, os.SEEK_CUR)


class Allowed:
    """The member names a shipment's parts may hold, from its manifest alone."""

    def __init__(self, shipment: Shipment):
        layouts = [Store.layout_key(MirrorName(*image["name"].rpartition(":")[::2])) for image in shipment.images]
        self.isc = shipment.isc
        self.files: Set[str] = {f"blobs/{digest.replace(':', '/', 1)}" for digest in shipment.blobs}
        self.files |= {f"layouts/{key}/{name}" for key in layouts for name in ("oci-layout", "index.json")}
        self.files |= {shipment.isc, f"{shipment.metadata_dir}/images.json"}
        self.directories = {str(parent) for name in self.files | {"signatures/x"}
                            for parent in PurePosixPath(name).parents if str(parent) != "."}
        self.shipment = shipment

    def most_files(self, part: Part) -> int:
        return part.files if part.files is not None else len(self.files) + MAX_UNDECLARED_SIGNATURES

    def check(self, member: tarfile.TarInfo, part: Part) -> None:
        name = member.name
        path = PurePosixPath(name)
        if name.startswith("/") or path.is_absolute() or ".." in path.parts:
            raise UnsafeArchive(f"{part.name}: refusing member {name!r}: it would be written outside the target "
                                "directory")
        if not (member.isfile() or member.isdir()) or member.issparse():
            raise UnsafeArchive(f"{part.name}: refusing member {name!r}: links and special files are not part of "
                                "a skomirror archive")
        known = name.rstrip("/") in self.directories if member.isdir() else \
            name in self.files or bool(_SIGNATURE.match(name))
        if not known:
            raise UnsafeArchive(f"{part.name}: refusing member {name!r}: not something shipment "
                                f"{self.shipment.id}'s manifest declares")
        if member.size > part.size:
            raise UnsafeArchive(f"{part.name}: refusing member {name!r}: larger than the part itself")


def check_members(directory: Path, shipment: Shipment) -> None:
    """Every header of every part of `shipment` checked before anything is extracted; one bad member refuses all."""
    allowed = Allowed(shipment)
    seen: Set[str] = set()
    for part in shipment.parts:
        with open_part(directory, part.name) as handle:
            most = allowed.most_files(part)
            files, data = _scan_headers(handle, part, most, most + len(allowed.directories))
            if part.file_bytes is not None and data > part.file_bytes:
                raise UnsafeArchive(f"{part.name}: holds {data} bytes of files, its manifest declares "
                                    f"{part.file_bytes}")
            handle.seek(0)
            try:
                with tarfile.open(fileobj=handle, mode="r:") as tar:
                    for member in tar:
                        allowed.check(member, part)
                        if member.isfile() and member.name in seen:
                            raise UnsafeArchive(f"{part.name}: {member.name!r} is in the shipment twice")
                        seen.add(member.name)
            except tarfile.TarError as exc:
                raise UnsafeArchive(f"{part.name}: not a readable tar archive: {exc}") from None
    if shipment.isc not in seen:
        raise UnsafeArchive(f"shipment {shipment.id}: its ISC ({shipment.isc}) is in none of its parts")


def _write_member(source: BinaryIO, destination: Path, on_bytes: OnBytes = None) -> None:
    """Write to a fresh temporary file (never through a link left there) and rename it into place."""
    temporary = destination.with_name(f".{destination.name}.extracting")
    temporary.unlink(missing_ok=True)
    fd = os.open(str(temporary), os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            out.write(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    os.replace(temporary, destination)


def extract_part(directory: Path, part: Part, target: Path, allowed: Allowed, on_bytes: OnBytes = None) -> int:
    """Unpack one (already checked) part into `target`, checking each member again; returns the files written.
    `on_bytes` hears of the part's bytes as they are written, and of its headers and padding at the end."""
    target = target.resolve()
    count = written = 0
    with open_part(directory, part.name) as handle, tarfile.open(fileobj=handle, mode="r:") as tar:
        for member in tar:
            allowed.check(member, part)
            destination = (target / member.name).resolve()
            if destination != target and target not in destination.parents:
                raise UnsafeArchive(f"{part.name}: refusing member {member.name!r}: it resolves outside {target}")
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            _write_member(tar.extractfile(member), destination, on_bytes)
            written += member.size
            count += 1
    if on_bytes is not None:
        on_bytes(max(part.size - written, 0))
    return count
