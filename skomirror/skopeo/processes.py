"""Starting skopeo children, logging them, watching them, and stopping all of them on demand.

Each child runs in its own session, so a Ctrl-C at the terminal reaches
skomirror only; skomirror then stops every child itself and no orphan keeps
pushing after the user has gone. When skomirror dies without a word
(`kill -9`, the OOM killer), Linux kills the children: each asks for SIGKILL
on its parent's death before it runs skopeo. That signal follows the *thread*
that started the child, so the call that starts a child waits for it, and
never returns while it runs. Where util-linux can ask for it (`setsid` and a
`setpriv` with --pdeathsig), the child is started as `setsid setpriv
--pdeathsig KILL -- skopeo ...`, so Python needs no preexec_fn and spawns it
without forking itself (posix_spawn: about 0.3 ms of skomirror's CPU instead
of 2-3 ms, and no GIL held through a fork); elsewhere the request is a
preexec_fn.

A child is stalled when its byte counters (/proc/<pid>/io: bytes it read and
wrote, network included) stop moving for the stall timeout. That is
measured progress, not a deadline: a 20 GB layer on a slow link is never
killed while bytes flow, and a dead connection is noticed in minutes.
"""

import ctypes
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

LOG_MODE = 0o600
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class ProcessId:
    """A process as Linux knows it for this boot: a pid alone may be reused, a pid and its start time are not."""

    pid: int
    start: int  # /proc/<pid>/stat field 22, clock ticks after boot

    @classmethod
    def of(cls, pid: int) -> Optional["ProcessId"]:
        """`pid` as it runs now; None when it is gone (a zombie is gone: it runs nothing)."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()  # the name in parentheses may hold spaces
            return None if fields[0] in ("Z", "X") else cls(pid, int(fields[19]))
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        return ProcessId.of(self.pid) == self


def _parent_death_request() -> Optional[Callable[[], Callable[[], None]]]:
    """Makes the preexec_fn that asks Linux for SIGKILL when the starting thread ends; None where it cannot.

    A preexec_fn is unsafe with threads when it takes a lock another thread held at the fork; this one calls
    one C function resolved beforehand and getppid, and takes none.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int

    def for_this_parent() -> Callable[[], None]:
        parent = os.getpid()

        def die_with_parent() -> None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the request: nobody is left to wait for us
                os._exit(1)

        return die_with_parent

    return for_this_parent


_DIE_WITH_PARENT = _parent_death_request()


def _tie_by_util_linux() -> Optional[List[str]]:
    """`setsid setpriv --pdeathsig KILL --`, when both are there and setpriv knows the option (util-linux >= 2.33).

    setpriv is asked by the text of its binary, not by running it: no process at start-up. setsid does not fork
    (a spawned child leads no process group), so skopeo keeps the pid Python started and the thread as its parent.
    """
    if _DIE_WITH_PARENT is None:  # not Linux
        return None
    setsid, setpriv = shutil.which("setsid"), shutil.which("setpriv")
    if not (setsid and setpriv):
        return None
    try:
        with open(setpriv, "rb") as binary:
            if b"pdeathsig" not in binary.read(4 << 20):
                return None
    except OSError:
        return None
    return [os.path.abspath(setsid), os.path.abspath(setpriv), "--pdeathsig", "KILL", "--"]


_TIE_PREFIX: Optional[List[str]] = None
_TIE_KNOWN = False


def tie_prefix() -> Optional[List[str]]:
    """The argv prefix that ties a child to its parent's life and session, or None (then a preexec_fn does)."""
    global _TIE_PREFIX, _TIE_KNOWN
    if not _TIE_KNOWN:
        _TIE_PREFIX, _TIE_KNOWN = _tie_by_util_linux(), True
    return _TIE_PREFIX


def tied(pid: int) -> bool:
    """Whether a spawned child has made its parent-death request: with util-linux, once setpriv has run the
    command (its executable is neither setsid nor setpriv any more) or the child has ended; with a preexec_fn,
    from its start."""
    prefix = tie_prefix()
    if prefix is None:
        return True
    try:
        return os.readlink(f"/proc/{pid}/exe") not in {os.path.realpath(prefix[0]), os.path.realpath(prefix[1])}
    except OSError:  # ended already, or a zombie
        return True


def _until_tied(process: subprocess.Popen) -> None:
    """Until the child is tied: the request binds to a thread alive by then."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and not tied(process.pid):
        time.sleep(0.0005)


def spawn(argv: Sequence[str], thread_waits: bool = False, **popen_args) -> subprocess.Popen:
    """A child in its own session that Linux kills when the calling thread ends.

    With util-linux, setpriv makes the request once it runs, so spawn returns only then (_until_tied), unless
    `thread_waits`: the calling thread waits for the child to end (ChildProcesses.run), so it outlives the request
    anyway (that wait cost 0.2 ms of CPU per child, and held the children's lock). A kill of skomirror in the
    millisecond between the start and setpriv's request (which the preexec_fn closes with its getppid check)
    leaves that one child to run to its end.
    """
    prefix = tie_prefix()
    if prefix is not None:  # posix_spawn: close_fds=False is safe, Python opens every descriptor non-inheritable
        process = subprocess.Popen([*prefix, *argv], close_fds=False, **popen_args)
        if not thread_waits:
            _until_tied(process)
        return process
    return subprocess.Popen(list(argv), start_new_session=True,
                            preexec_fn=_DIE_WITH_PARENT() if _DIE_WITH_PARENT else None, **popen_args)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes  # only when captured
    output: str  # what the child wrote to its log during this run (stderr, and stdout unless captured)
    interrupted: bool
    stalled: bool = False  # killed by the watchdog: no byte progress for the stall timeout


def _io_counters(pid: int) -> Optional[Dict[str, int]]:
    """The counters of /proc/<pid>/io (rchar, wchar, ...), or None when Linux does not tell."""
    try:
        with open(f"/proc/{pid}/io") as handle:
            return {name: int(value) for name, value in (line.split(":", 1) for line in handle if ":" in line)}
    except (OSError, ValueError):
        return None


def io_bytes(pid: int) -> Optional[int]:
    """Bytes the process has read and written so far (rchar + wchar), or None when Linux does not tell."""
    return _moved(_io_counters(pid))


def _moved(counters: Optional[Dict[str, int]]) -> Optional[int]:
    if counters is None or "rchar" not in counters or "wchar" not in counters:
        return None
    return counters["rchar"] + counters["wchar"]


class Stopped(Exception):
    """Raised instead of starting a child once the run is being stopped."""


def open_log(path: Path):
    """Append to a per-image log that only the owner can read."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_MODE)
    return os.fdopen(fd, "ab")


def note(log: Path, line: str) -> None:
    """One line of skomirror's own in a per-image log, set apart from skopeo's output."""
    with open_log(log) as handle:
        handle.write(f"=== {line}\n".encode())


class ChildProcesses:
    """The running skopeo children of a run; `on_change` hears of each start and end, to record them elsewhere."""

    dies_with_parent = _DIE_WITH_PARENT is not None  # False: a killed skomirror may leave children running

    def __init__(self, stall_timeout: Optional[float] = None,
                 on_change: Optional[Callable[[List[ProcessId]], None]] = None):
        self._lock = threading.Lock()
        self._live: Set[subprocess.Popen] = set()
        # counter, when it last moved, and rchar then (the byte meter's answer: one /proc read a tick)
        self._progress: Dict[subprocess.Popen, Tuple[Optional[int], float, Optional[int]]] = {}
        self._stalled: Set[subprocess.Popen] = set()
        self.stall_timeout = stall_timeout
        self.unwatchable = False  # set when /proc/<pid>/io cannot be read: stalls then go unnoticed
        self.stopping = threading.Event()
        self._watchdog: Optional[threading.Thread] = None
        self._by_tag: Dict[object, subprocess.Popen] = {}  # whose child is this (a record), for byte progress
        self._ids: Dict[subprocess.Popen, ProcessId] = {}
        self.on_change = on_change

    def _changed(self) -> None:
        """Under self._lock, so the listeners hear the changes in order."""
        if self.on_change is not None:
            self.on_change(list(self._ids.values()))

    def _watch(self) -> None:
        interval = min(1.0, self.stall_timeout / 4)
        while not self.stopping.wait(interval):
            now = time.monotonic()
            with self._lock:
                watched = list(self._progress.items())
            for process, (counter, since, _) in watched:
                counters = _io_counters(process.pid)
                current = _moved(counters)
                if current is None:
                    # Gone since the listing (reaped: its /proc entry went with it), or Linux does not tell.
                    if os.path.exists(f"/proc/{process.pid}") or not os.path.exists("/proc/self/io"):
                        self.unwatchable = True
                    continue
                if current != counter:
                    with self._lock:
                        if process in self._progress:
                            self._progress[process] = (current, now, counters["rchar"])  # _moved: it is there
                elif now - since > self.stall_timeout:
                    with self._lock:  # not once run() has let it go: nothing would take it out of _stalled
                        stalled = process in self._progress and process not in self._stalled
                        if stalled:
                            self._stalled.add(process)
                    if stalled:
                        _signal(process, terminate=False)

    def bytes_read(self, tag: object) -> Optional[int]:
        """Bytes read so far by the running child started for `tag` (network and files); None when unknown."""
        with self._lock:
            process = self._by_tag.get(tag)
            watched = self._progress.get(process)  # type: ignore[arg-type]
            if watched is not None and watched[2] is not None:  # the watchdog read it less than a second ago
                return watched[2]
        counters = _io_counters(process.pid) if process is not None else None
        return counters.get("rchar") if counters is not None else None

    def run(self, command: Sequence[str], log_path: Path, label: str, capture_stdout: bool = False,
            tag: object = None, env: Optional[Dict[str, str]] = None) -> Completed:
        """Run a command (its argv) to completion; its stderr (and stdout unless captured) go to `log_path`;
        env: the child's environment, else skomirror's."""
        if self.stopping.is_set():
            raise Stopped()
        with open_log(log_path) as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {label}: {shlex.join(command)}\n".encode())
            log.flush()
            start = log.tell()
            with self._lock:
                if self.stopping.is_set():
                    log.write(b"=== not started: the run is stopping\n")
                    raise Stopped()
                process = spawn(command, thread_waits=True, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE if capture_stdout else log, stderr=log, env=env)
                self._live.add(process)
                identity = ProcessId.of(process.pid)  # not reaped yet: the pid is still this child's
                if identity is not None:
                    self._ids[process] = identity
                    self._changed()
                if tag is not None:
                    self._by_tag[tag] = process
                if self.stall_timeout:
                    self._progress[process] = (None, time.monotonic(), None)
                    if self._watchdog is None:
                        self._watchdog = threading.Thread(target=self._watch, name="stall-watchdog", daemon=True)
                        self._watchdog.start()
            try:
                stdout, _ = process.communicate()
            finally:
                if process.poll() is None:  # communicate() raised: the child must not outlive this call
                    _signal(process, terminate=False)
                    process.wait()
                with self._lock:
                    self._live.discard(process)
                    if self._ids.pop(process, None) is not None:
                        self._changed()
                    self._progress.pop(process, None)
                    if tag is not None and self._by_tag.get(tag) is process:
                        del self._by_tag[tag]
                    stalled = process in self._stalled
                    self._stalled.discard(process)  # read once: kept, the set would grow with every stall
            if stalled:
                log.write(f"=== stalled: no byte progress for {self.stall_timeout:g}s, stopped\n".encode())
            log.write(f"=== exit {process.returncode}\n".encode())
        with open(log_path, "rb") as reread:
            reread.seek(start)
            output = reread.read().decode(errors="replace")
        return Completed(process.returncode, stdout or b"", output, self.stopping.is_set(), stalled)

    def stop_all(self, grace: float = 5.0) -> None:
        """Refuse new children, ask running ones to stop, then kill what is left."""
        with self._lock:
            self.stopping.set()
            live = list(self._live)
        for process in live:
            _signal(process, terminate=True)
        deadline = time.monotonic() + grace
        for process in live:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(process, terminate=False)


def _signal(process: subprocess.Popen, terminate: bool) -> Optional[int]:
    try:
        process.terminate() if terminate else process.kill()
    except (ProcessLookupError, OSError):
        pass
    return process.poll()
