"""The shipments of several shards in one directory, so that one `--from` receives them all.

Shard K of N numbers its shipments and parts K+1 modulo N (History.next_numbers), so the files of all
shards never share a name. Gathering hard-links them (copies across file systems) into one directory,
each part before its manifest, as a shipment is written. Only regular files the manifests name are
taken, manifests checked key by key as the receiving side checks them; a name already there with
other content is refused, so nothing gathered earlier is replaced.
"""

import os
import shutil
import stat
from pathlib import Path
from typing import Callable, List

from skomirror.airgap.shipments import READ_ONLY_HERE, find_shipments
from skomirror.airgap.unpacking import sha256_of
from skomirror.errors import SkomirrorError


def _regular_size(path: Path) -> int:
    """The size of a regular file that is no symlink; refused in one line otherwise."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise SkomirrorError(f"{path}: {exc.strerror}: the shipment is incomplete") from None
    if not stat.S_ISREG(info.st_mode):
        raise SkomirrorError(f"{path}: not a regular file (a symlink or special file is not gathered)")
    return info.st_size


def _same(source: Path, target: Path, sha256: str) -> bool:
    """Whether `target` already holds what `source` holds (linked, or the same bytes)."""
    source_info, target_info = os.lstat(source), os.lstat(target)
    if not stat.S_ISREG(target_info.st_mode):
        return False
    if (source_info.st_dev, source_info.st_ino) == (target_info.st_dev, target_info.st_ino):
        return True
    return source_info.st_size == target_info.st_size and sha256_of(target) == sha256


def _place(source: Path, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.gathering")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary, follow_symlinks=False)
    except OSError:  # another file system, or links refused: a copy, read without following a link
        fd = os.open(str(source), READ_ONLY_HERE)
        with os.fdopen(fd, "rb") as reading, open(temporary, "xb") as writing:
            shutil.copyfileobj(reading, writing, 1 << 20)
    os.replace(temporary, target)


def gather_shipments(directories: List[Path], into: Path, say: Callable[[str], None]) -> int:
    """Every shipment of `directories` into `into`; returns how many were placed now (not there already)."""
    into.mkdir(parents=True, exist_ok=True)
    placed = 0
    for directory in directories:
        for shipment in find_shipments(directory):
            manifest = directory / shipment.manifest_name
            files = [(directory / part.name, part.size, part.sha256) for part in shipment.parts]
            new = False
            for source, size, sha256 in files:
                if _regular_size(source) != size:
                    raise SkomirrorError(f"{source}: {_regular_size(source)} bytes, its manifest "
                                         f"{manifest} says {size}: the shipment is incomplete")
                target = into / source.name
                if os.path.lexists(target):
                    if not _same(source, target, sha256):
                        raise SkomirrorError(f"{target} is already there and is not {source}: shipments of "
                                             "different runs share a number (was the number of shards changed?); "
                                             "gather into an empty directory")
                    continue
                _place(source, target)
                new = True
            target = into / manifest.name
            _regular_size(manifest)
            if os.path.lexists(target):
                if _regular_size(target) < 0 or target.read_bytes() != manifest.read_bytes():
                    raise SkomirrorError(f"{target} is already there and is not {manifest}: gather into an "
                                         "empty directory")
                continue
            _place(manifest, target)
            placed += 1
            say(f"gathered shipment {shipment.id} from {directory}{'' if new else ' (its parts were there)'}")
    return placed
