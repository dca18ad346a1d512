"""Free disk space, checked before anything is written: a full disk halfway through helps nobody."""

import os
import shutil
from pathlib import Path

from skomirror.errors import SkomirrorError
from skomirror.progress import format_bytes

FREE_SPACE_OVERRIDE = "SKOMIRROR_FREE_SPACE_BYTES"  # for tests: pretend the disk has this many bytes free


def free_bytes(path: Path) -> int:
    override = os.environ.get(FREE_SPACE_OVERRIDE)
    if override:
        return int(override)
    existing = Path(path).absolute()
    while not existing.exists():
        existing = existing.parent
    return shutil.disk_usage(existing).free


def check_space(directory: Path, needed: int, what: str) -> None:
    free = free_bytes(directory)
    if needed > free:
        raise SkomirrorError(f"not enough disk space in {directory}: {what} needs about {format_bytes(needed)} and "
                             f"{format_bytes(free)} is free; free some space or use a larger filesystem")
