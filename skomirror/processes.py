"""Starting skopeo children, logging them, and stopping all of them on demand.

Each child runs in its own session, so a Ctrl-C at the terminal reaches
skomirror only; skomirror then stops every child itself and no orphan keeps
pushing after the user has gone.
"""

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Set

LOG_MODE = 0o600


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes  # only when captured
    output: str  # what the child wrote to its log during this run (stderr, and stdout unless captured)
    interrupted: bool


class Stopped(Exception):
    """Raised instead of starting a child once the run is being stopped."""


def open_log(path: Path):
    """Append to a per-image log that only the owner can read."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_MODE)
    return os.fdopen(fd, "ab")


class ChildProcesses:
    def __init__(self):
        self._lock = threading.Lock()
        self._live: Set[subprocess.Popen] = set()
        self.stopping = threading.Event()

    def run(self, command, log_path: Path, label: str, capture_stdout: bool = False) -> Completed:
        """Run a plumbum command to completion; its stderr (and stdout unless captured) go to `log_path`."""
        with open_log(log_path) as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {label}: {command}\n".encode())
            log.flush()
            start = log.tell()
            with self._lock:
                if self.stopping.is_set():
                    raise Stopped()
                process = command.popen(stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE if capture_stdout else log,
                                        stderr=log, start_new_session=True)
                self._live.add(process)
            try:
                stdout, _ = process.communicate()
            finally:
                with self._lock:
                    self._live.discard(process)
            log.write(f"=== exit {process.returncode}\n".encode())
        with open(log_path, "rb") as reread:
            reread.seek(start)
            output = reread.read().decode(errors="replace")
        return Completed(process.returncode, stdout or b"", output, self.stopping.is_set())

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
