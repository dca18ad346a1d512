"""One run at a time per workspace and per file:// destination, and no run racing what a killed one left running.

A run holds an flock on `.skomirror.lock` in each directory it writes into. The kernel drops it when the process
ends, however it ends, so a lock nobody holds is free whatever its file says. The file says who holds it (first
line, written once) and which skopeo children it has running (the lines after, rewritten in place as they come
and go); a clean end empties it. A second run is refused with the holder's pid and start time. A run that takes
a lock whose file still names children of a dead holder waits for those still running (same pid and start time)
before it writes anything, then refuses if they outlast the wait.
"""

import errno
import fcntl
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from skomirror.errors import SkomirrorError
from skomirror.skopeo.processes import ProcessId

LOCK_NAME = ".skomirror.lock"
DIR_MODE = 0o700
LEFTOVER_WAIT = 60.0  # seconds for a killed run's children to end before the new run gives up
HOLDER_READ_TRIES = 20  # a holder writes its line just after locking: a refused run reads again meanwhile


@dataclass(frozen=True)
class Place:
    """A directory that one run at a time may write into."""

    directory: Path
    name: str  # as the user wrote it: "workspace /x", "DEST file:///data/mirror"
    hint: str  # what the refused user can do


@dataclass(frozen=True)
class Holder:
    pid: int
    started: str  # wall-clock time, for people
    host: str
    workspace: str

    def line(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True) + "\n"

    @classmethod
    def parse(cls, line: str) -> Optional["Holder"]:
        try:
            fields = json.loads(line)
            return cls(int(fields["pid"]), str(fields["started"]), str(fields["host"]), str(fields["workspace"]))
        except (ValueError, TypeError, KeyError, RecursionError):
            return None

    def who(self) -> str:
        return f"pid {self.pid}, started {self.started}"


def _read_record(fd: int) -> Tuple[Optional[Holder], List[ProcessId]]:
    """The holder and children a lock file names; nothing for an empty or damaged one."""
    text = os.pread(fd, 1 << 20, 0).decode(errors="replace")
    lines = text.splitlines()
    holder = Holder.parse(lines[0]) if lines else None
    children = []
    for line in lines[1:]:
        child = re.fullmatch(r"child ([0-9]{1,10}) ([0-9]{1,20})", line)
        if child:
            children.append(ProcessId(int(child.group(1)), int(child.group(2))))
    return holder, children


class _LockFile:
    def __init__(self, place: Place, fd: int, holder: Holder, created: List[Path]):
        self.place, self.fd, self.holder = place, fd, holder
        self.created = created  # the directories this run made for the lock, deepest first
        self.previous, recorded = _read_record(fd)
        here = self.previous is not None and self.previous.host == holder.host  # others' are not seen from here
        self.inherited = [child for child in recorded if here and child.running()]
        self.write(self.inherited)  # kept until they end, should this run give up before they do

    def write(self, children: Sequence[ProcessId]) -> None:
        """In place, never replaced: the lock is on this file, and a new one would be free to take."""
        data = (self.holder.line() + "".join(f"child {c.pid} {c.start}\n" for c in children)).encode()
        os.pwrite(self.fd, data, 0)
        os.ftruncate(self.fd, len(data))

    def release(self, clean: bool) -> None:
        """Still locked, a directory made only for the lock goes with it; a lock taker checks its file is the
        one on disk, so none is left holding a removed file."""
        try:
            if self.created and [entry.name for entry in os.scandir(self.place.directory)] == [LOCK_NAME]:
                os.unlink(str(self.place.directory / LOCK_NAME))
                for directory in self.created:
                    os.rmdir(str(directory))  # a parent another run has written into since is not empty: kept
            elif clean:  # the next run finds nobody to wait for
                os.ftruncate(self.fd, 0)
        finally:
            os.close(self.fd)


class Locks:
    """The locks one run holds; the run's children are written into each of them."""

    def __init__(self, files: List[_LockFile]):
        self._files = files
        self.unrecorded: Optional[str] = None  # the first failure to record the children, for a warning

    def record_children(self, children: Sequence[ProcessId]) -> None:
        for lock in self._files:
            try:
                lock.write(children)
            except OSError as exc:  # the parent-death signal still stops them; only the record is missing
                self.unrecorded = self.unrecorded or f"{lock.place.directory / LOCK_NAME}: {exc.strerror or exc}"

    def release(self, clean: bool = True) -> None:
        """`clean`: no child of this run runs, nor one it inherited; else the record stays for the next run."""
        files, self._files = self._files, []
        for lock in files:
            try:
                lock.release(clean)
            except OSError:
                pass  # closing the file has released the lock anyway

    def left_running(self) -> List[Tuple[Holder, List[ProcessId]]]:
        """The children of dead holders, on this machine, that still run."""
        found, seen = [], set()
        for lock in self._files:
            running = [c for c in lock.inherited if c not in seen and c.running()]
            seen.update(running)
            if running:
                found.append((lock.previous, running))
        return found


def me(workspace: Path) -> Holder:
    return Holder(os.getpid(), time.strftime("%Y-%m-%d %H:%M:%S %z"), socket.gethostname(), str(workspace))


def _missing_directories(directory: Path) -> List[Path]:
    """The directories mkdir(parents=True) would create, deepest first."""
    missing = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    return missing


def _open_locked(place: Place, holder: Holder) -> _LockFile:
    path = place.directory / LOCK_NAME
    while True:
        created = _missing_directories(place.directory)
        try:
            place.directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            fd = os.open(str(path), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise SkomirrorError(f"{place.name} is not writable: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            busy = exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
            other = _holder_of(fd) if busy else None
            os.close(fd)
            if not busy:
                raise SkomirrorError(f"{path}: cannot be locked: {exc.strerror or exc}") from None
            raise SkomirrorError(f"{place.name} is in use by another skomirror run ({_describe(other, holder)}): "
                                 f"wait for it to end, or {place.hint}") from None
        if _same_file(fd, path):
            return _LockFile(place, fd, holder, created)
        os.close(fd)  # locked a file its holder had just removed: the path names a new one now


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk, locked = os.stat(str(path), follow_symlinks=False), os.fstat(fd)
    except OSError:
        return False
    return (on_disk.st_dev, on_disk.st_ino) == (locked.st_dev, locked.st_ino)


def _holder_of(fd: int) -> Optional[Holder]:
    for _ in range(HOLDER_READ_TRIES):
        holder, _ = _read_record(fd)
        if holder is not None:
            return holder
        time.sleep(0.05)
    return None


def _describe(other: Optional[Holder], mine: Holder) -> str:
    if other is None:
        return "it has not written its pid yet"
    where = [] if other.host == mine.host else [f"on {other.host}"]
    where += [] if other.workspace == mine.workspace else [f"workspace {other.workspace}"]
    return ", ".join([other.who()] + where)


def take(places: Sequence[Place], holder: Holder, say: Callable[[str], None],
         wait: float = LEFTOVER_WAIT) -> Locks:
    """Every place's lock, or none and a refusal; then the killed runs' children still running are waited for.

    Places that exist are locked first: a run refused there has created nothing.
    """
    unique = {}
    for place in places:
        unique.setdefault(Path(os.path.realpath(place.directory)), place)
    ordered = sorted(unique.items(), key=lambda item: (not item[0].is_dir(), str(item[0])))
    locks = Locks([])
    try:
        for directory, place in ordered:
            locks._files.append(_open_locked(Place(directory, place.name, place.hint), holder))
        _wait_for_leftovers(locks, say, wait)
    except BaseException:
        locks.release(clean=False)
        raise
    return locks


def _wait_for_leftovers(locks: Locks, say: Callable[[str], None], wait: float) -> None:
    left = locks.left_running()
    if not left:
        return
    for holder, children in left:
        say(f"waiting for {len(children)} skopeo process(es) left running by skomirror {holder.who()}, "
            f"which has ended: pid {', '.join(str(c.pid) for c in children)}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        left = locks.left_running()
        if not left:
            return
        time.sleep(0.2)
    pids = " ".join(str(c.pid) for _, children in left for c in children)
    raise SkomirrorError(f"skopeo processes left by skomirror {left[0][0].who()} still run after {wait:g}s and "
                         f"may still write where this run would: stop them (kill {pids}) and run again")
