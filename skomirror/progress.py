"""The console: one aggregate view of the run on stderr, never skopeo's own output.

A phase at a time (checking, mirroring, verifying, unpacking...): `start()`,
`advance()` per settled image, `set_bytes()` or `add_bytes()`, `finish()`.
On a terminal, one tqdm bar whose line is fitted to the width by
skomirror.status (the failed count given up last), and under it, as more tqdm
lines, the registry that is down and the largest copies in flight; redrawn
twice a second and at once on SIGWINCH; the bar's line stays when the phase
ends. Elsewhere (CI logs, nohup, pipes): a plain status line with the time, at
most every 10 seconds, and one when the phase ends. stdout stays free for what
a script reads.

The counts are the summary's: an image stopped by an interrupt is "not
finished", never "failed".
"""

import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, List, Optional, TextIO

from skomirror.records import Status
from skomirror.status import (CATALOGS, CHECKING, DELETING, MIRRORING, UNPACKING, VERIFYING, InFlight, Snapshot,
                              fitted, format_bytes, format_duration, lines_below, plain, plural)

if TYPE_CHECKING:  # tqdm (and the importlib.metadata it reads its version with) only where a terminal shows the bar
    from skomirror.terminal import TerminalLines

__all__ = ["CATALOGS", "CHECKING", "DELETING", "MIRRORING", "UNPACKING", "VERIFYING", "Counts", "InFlight",
           "LEVELS", "Progress", "format_bytes", "format_duration", "plural"]

LEVELS = ("info", "debug", "error")
LOG_LEVELS = LEVELS + ("trace",)  # oc-mirror's --log-level: its trace is debug here
REDRAW = 0.5


@dataclass
class Counts:
    copied: int = 0
    skipped: int = 0
    failed: int = 0
    to_copy: int = 0  # checked and found missing at the destination
    bytes_done: int = 0

    @property
    def done(self) -> int:
        return self.copied + self.skipped + self.failed + self.to_copy

    def add(self, status: Status) -> None:
        """An interrupted image is not counted: what is not done when the run stops is "not finished"."""
        if status == Status.COPIED:
            self.copied += 1
        elif status == Status.SKIPPED:
            self.skipped += 1
        elif status == Status.FAILED:
            self.failed += 1
        elif status == Status.PENDING:
            self.to_copy += 1


class Progress:
    def __init__(self, stream: Optional[TextIO] = None, interactive: Optional[bool] = None, interval: float = 10.0,
                 smoothing: float = 0.1, level: str = "info", columns: Optional[Callable[[], int]] = None,
                 redraw: float = REDRAW):
        """level: "error" shows only warnings and the summary; "debug" also each image as it ends.
        columns: the terminal's width (a test's own; else asked of the stream)."""
        if level not in LOG_LEVELS:
            raise ValueError(f"log level {level!r}: expected one of {', '.join(LEVELS)}")
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.interval = redraw if self.interactive else interval
        self.level = "debug" if level == "trace" else level
        self.smoothing = smoothing  # weight of the newest rate in the smoothed rate
        self._screen = threading.RLock()  # what is drawn: a line printed, a redraw, the end of a phase
        self._lines: Optional["TerminalLines"] = None
        if self.interactive:
            from skomirror import terminal
            self._lines = terminal.TerminalLines(self.stream, columns)
        self._lock = threading.Lock()  # the counts
        self._ticker: Optional[threading.Thread] = None
        self._wake = threading.Event()
        self._stop = False
        self._active = False
        self._previous_winch = None
        self.label, self.images, self.noun = "", 0, "image"
        self.total_bytes: Optional[int] = None
        self.counts = Counts()
        self.stopped = False
        self.started = time.monotonic()
        self._rate: Optional[float] = None
        self._last: tuple = (self.started, 0)
        self._running: Callable[[], List[InFlight]] = lambda: []
        self.notice: Callable[[], str] = lambda: ""  # what the status line adds (a registry that is down)

    @property
    def quiet(self) -> bool:
        return self.level == "error"

    def start(self, label: str, images: int, total_bytes: Optional[int] = None, already: Optional[Counts] = None,
              running: Optional[Callable[[], List[InFlight]]] = None, noun: str = "image") -> None:
        """`already` counts images settled before this phase (skipped, unreadable); they carry no bytes;
        `running`: the copies in flight now."""
        if self._active:  # a phase left open by an error: closed first, so one ticker draws
            self.finish()
        with self._lock:
            self.label, self.images, self.noun, self.total_bytes = label, images, noun, total_bytes or None
            self.counts, self.started, self.stopped = already or Counts(), time.monotonic(), False
            self._rate, self._last = None, (self.started, 0)
            self._running = running or (lambda: [])
        if self.quiet:
            return
        self._stop, self._active = False, True
        self._wake.clear()
        if self._lines is not None:
            self._watch_resizes()
            self._draw()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._ticker.start()

    def advance(self, status: Status) -> None:
        """One more image (or part) settled."""
        with self._lock:
            self.counts.add(status)
            if status == Status.INTERRUPTED:
                self.stopped = True

    def set_bytes(self, done: int) -> None:
        """Bytes moved so far (never less than before: a retry does not take the bar back)."""
        with self._lock:
            self._moved_to(done)

    def add_bytes(self, count: int) -> None:
        with self._lock:
            self._moved_to(self.counts.bytes_done + count)

    def step(self) -> None:
        """One more part of a byte phase (verifying, unpacking) done."""
        self.advance(Status.COPIED)

    def _moved_to(self, done: int) -> None:
        if done <= self.counts.bytes_done:
            return
        now = time.monotonic()
        since, bytes_then = self._last
        if now - since >= 0.5:  # a smoothed rate for the ETA
            rate = (done - bytes_then) / (now - since)
            self._rate = rate if self._rate is None else self.smoothing * rate + (1 - self.smoothing) * self._rate
            self._last = (now, done)
        self.counts.bytes_done = done

    def interrupted(self) -> None:
        """The run is being stopped: from here on, what has not ended is "not finished"."""
        with self._lock:
            self.stopped = True

    def finish(self, interrupted: bool = False) -> None:
        """End the phase, leaving its last line; safe to call when no phase runs."""
        if interrupted:
            self.interrupted()
        self._stop = True
        self._wake.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()
        self._ticker = None
        with self._screen:
            if not self._active:
                return
            last = self.snapshot(final=True)
            self._active = False
            if self._lines is not None:
                self._lines.close(fitted(last, self._lines.width()))
                self._unwatch_resizes()
            else:
                self._print(plain(last))

    def snapshot(self, final: bool = False) -> Snapshot:
        running = [] if final else list(self._running())  # reads /proc: not under the lock
        notice = "" if final else self.notice()
        with self._lock:
            c = self.counts
            elapsed = max(time.monotonic() - self.started, 1e-6)
            rate = c.bytes_done / elapsed if final or self._rate is None else self._rate
            return Snapshot(self.label, self.images, c.copied, c.skipped, c.failed, c.to_copy, self.noun,
                            self.stopped, final, c.bytes_done, self.total_bytes,
                            rate if self.total_bytes is not None else None, elapsed, running, notice)

    def status_line(self) -> str:
        """The plain status line of now (as the non-terminal console prints it)."""
        return plain(self.snapshot())

    # --- drawing ---

    def _tick(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop:
                return
            if self._lines is not None:
                self._draw()
            else:
                self._print(self.status_line())

    def _draw(self) -> None:
        snap = self.snapshot()
        with self._screen:
            if self._active and self._lines is not None:
                width = self._lines.width()
                self._lines.draw(fitted(snap, width), lines_below(snap, width, self._lines.room_below()))

    def _watch_resizes(self) -> None:
        """SIGWINCH redraws at once (else within REDRAW): a narrowed terminal reflows the old line."""
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGWINCH"):
            self._previous_winch = signal.signal(signal.SIGWINCH, lambda signum, frame: self._wake.set())

    def _unwatch_resizes(self) -> None:
        if self._previous_winch is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGWINCH, self._previous_winch)
        self._previous_winch = None

    def _print(self, message: str) -> None:
        with self._screen:
            if self._active and self._lines is not None:
                self._lines.write_above(message)
            else:
                print(message, file=self.stream, flush=True)

    # --- what is said, by level ---

    def say(self, message: str) -> None:
        """A line of news (not at --log-level error), without breaking the status line."""
        if not self.quiet:
            self._print(message)

    def debug(self, message: str) -> None:
        """A line only --log-level debug shows: each image as it ends."""
        if self.level == "debug":
            self._print(message)

    def warn(self, message: str) -> None:
        """A warning, at every level."""
        self._print(f"skomirror: warning: {message}")

    def summary(self, lines: List[str]) -> None:
        """What a run ends with, at every level."""
        for line in lines:
            self._print(line)
