"""One aggregate view of the run, never skopeo's own output.

On a terminal: a single tqdm bar (bytes when sizes are known, with rate and
ETA, and the image counts beside it). Elsewhere (CI logs, nohup, pipes): a
plain status line at most every 10 seconds.
"""

import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, TextIO

from tqdm import tqdm

from skomirror.records import Status

CHECKING, MIRRORING, CATALOGS, DELETING = "checking", "mirroring", "catalogs", "deleting"
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(count: Optional[float]) -> str:
    if count is None:
        return "?"
    value = float(count)
    for unit in UNITS:
        if abs(value) < 1024 or unit == UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} {UNITS[-1]}"


def format_duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@dataclass
class Counts:
    done: int = 0
    copied: int = 0
    skipped: int = 0
    failed: int = 0
    to_copy: int = 0  # checked and found missing at the destination
    bytes_done: int = 0

    def add(self, status: Status) -> None:
        self.done += 1
        if status == Status.COPIED:
            self.copied += 1
        elif status == Status.SKIPPED:
            self.skipped += 1
        elif status in (Status.FAILED, Status.INTERRUPTED):
            self.failed += 1
        elif status == Status.PENDING:
            self.to_copy += 1


class Progress:
    """A phase at a time: `start()`, then `advance()` per finished image, then `finish()`."""

    def __init__(self, stream: TextIO = None, interactive: Optional[bool] = None, interval: float = 10.0,
                 smoothing: float = 0.1, level: str = "info"):
        self.stream = stream or sys.stdout
        self.level = level  # --log-level: at "error" the console says nothing (warnings go to stderr apart)
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.interval = interval
        self._lock = threading.Lock()
        self._bar: Optional[tqdm] = None
        self._ticker: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self.label = ""
        self.images = 0
        self.total_bytes: Optional[int] = None
        self.counts = Counts()
        self.started = time.monotonic()
        self.smoothing = smoothing  # weight of the newest rate in the smoothed rate
        self._rate: Optional[float] = None
        self._last: tuple = (self.started, 0)
        self.notice: Callable[[], str] = lambda: ""  # what the status line adds (a registry that is down)

    def start(self, label: str, images: int, total_bytes: Optional[int] = None,
              already: Optional[Counts] = None) -> None:
        """`already` counts images settled before this phase (skipped, unreadable); they carry no bytes."""
        self.label, self.images, self.total_bytes = label, images, total_bytes or None
        self.counts, self.started = already or Counts(), time.monotonic()
        self._rate, self._last = None, (self.started, 0)
        self._stop.clear()
        if self.interactive:
            by_bytes = self.total_bytes is not None
            total = self.total_bytes if by_bytes else images
            self._bar = tqdm(total=total, initial=0 if by_bytes else self.counts.done, desc=label, file=self.stream,
                             unit="B" if by_bytes else " img", unit_scale=by_bytes, unit_divisor=1024,
                             dynamic_ncols=True, smoothing=self.smoothing, leave=True)
            self._bar.set_postfix_str(self._counts_text(), refresh=True)
        else:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()

    def advance(self, status: Status) -> None:
        """One more image settled."""
        with self._lock:
            self.counts.add(status)
            if self._bar is not None:
                if self.total_bytes is None:
                    self._bar.update(1)
                self._bar.set_postfix_str(self._counts_text(), refresh=self.total_bytes is not None)

    def set_bytes(self, done: int) -> None:
        """Bytes moved so far (never less than before: a retry does not take the bar back)."""
        with self._lock:
            if done <= self.counts.bytes_done:
                return
            now = time.monotonic()
            since, bytes_then = self._last
            if now - since >= 0.5:  # a smoothed rate for the ETA, as the bar's own
                rate = (done - bytes_then) / (now - since)
                self._rate = rate if self._rate is None else self.smoothing * rate + (1 - self.smoothing) * self._rate
                self._last = (now, done)
            if self._bar is not None:
                self._bar.update(done - self.counts.bytes_done)
            self.counts.bytes_done = done

    def finish(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
            self.say(self.status_line())
        if self._bar is not None:
            with self._lock:
                self._bar.set_postfix_str(self._counts_text())
                self._bar.close()
                self._bar = None

    def say(self, message: str) -> None:
        """Print a line without breaking the bar."""
        if self.level == "error":
            return
        if self._bar is not None:
            tqdm.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def _counts_text(self) -> str:
        c = self.counts
        if self.label == DELETING:  # a deleted manifest counts as copied, one kept or gone as skipped
            return f"{c.done}/{self.images} images ({c.copied} deleted, {c.skipped} kept or gone, {c.failed} failed)"
        if self.label == CHECKING:
            return f"{c.done}/{self.images} images ({c.to_copy} to copy, {c.skipped} already mirrored, " \
                   f"{c.failed} failed)"
        return f"{c.done}/{self.images} images ({c.copied} copied, {c.skipped} skipped, {c.failed} failed)"

    def status_line(self) -> str:
        with self._lock:
            elapsed = max(time.monotonic() - self.started, 1e-6)
            text = f"{self.label}: {self._counts_text()}"
            if self.total_bytes is not None:
                rate = self._rate if self._rate is not None else self.counts.bytes_done / elapsed
                remaining = max(self.total_bytes - self.counts.bytes_done, 0)
                eta = remaining / rate if rate > 0 else None
                text += (f", {format_bytes(self.counts.bytes_done)} of {format_bytes(self.total_bytes)}"
                         f" at {format_bytes(rate)}/s, ETA {format_duration(eta)}")
            text += f", elapsed {format_duration(elapsed)}"
        notice = self.notice()
        return f"{text}; {notice}" if notice else text

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.say(self.status_line())
