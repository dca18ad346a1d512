"""Which registries are down, since when: said once when one goes down and once when it comes back.

During an outage every copy and check waits in its retries, and the run would
look hung; the console says instead which registry is down, since when, and
until when skomirror keeps trying. A retry that waits for a registry that is
down wakes as soon as any call finds it answering again, so the run goes on
within moments of the registry's return, not after the longest backoff.
"""

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from skomirror.records import Failure
from skomirror.skopeo.failures import down_as

POLL = 0.25  # how often a waiting retry looks at the stop flag
_READ_FAILED = "happened during read"  # Go's net/http: the request body (the source's blob) failed


def clock_time(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))


def culprit(failure: Failure, sides: Dict[str, str]) -> str:
    """The registry a failure came from (sides: registry -> "source", "destination" or "registry").

    The one its message names, else the source; but an upload whose body ran dry ("readfrom …:
    happened during read") names the destination it was writing to while the source went away.
    """
    sources = [registry for registry, side in sides.items() if side in ("source", "registry")]
    if _READ_FAILED in failure.message and sources:
        return sources[0]
    named = [registry for registry in sides  # whole names: 127.0.0.1:5000 is not in 127.0.0.1:50001
             if re.search(re.escape(registry) + r"(?![\w.-]|:\d)", failure.message)]
    return (named or sources or list(sides) or [""])[0]


@dataclass
class _Down:
    side: str
    how: str
    since_wall: float
    since: float  # monotonic


@dataclass
class Outages:
    """window: how long retries go on (--retry-window), for the "retrying until" of the first line."""

    window: float = 0.0
    say: Callable[[str], None] = lambda line: None
    lines: List[str] = field(default_factory=list)  # everything said, for results.json
    _down: Dict[str, _Down] = field(default_factory=dict)
    _returns: Dict[str, int] = field(default_factory=dict)  # registry -> times it came back
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def watch(self, sides: Dict[str, str]) -> "Watch":
        """What one call (a copy, a check) reports to: sides maps each registry it talks to -> its side."""
        return Watch(self, sides)

    def status(self) -> str:
        """The registries down now, for the status line: "destination r:5001 not answering since 12:03:04 (45 s)"."""
        now = time.monotonic()
        with self._changed:
            return "; ".join(f"{down.side} {registry} {down.how} since {clock_time(down.since_wall)} "
                             f"({now - down.since:.0f} s)" for registry, down in sorted(self._down.items()))

    def _announce(self, line: str) -> None:
        """Under the lock, so that a return is never said before the going down it answers."""
        self.lines.append(line)
        self.say(line)

    def failed(self, registry: str, side: str, failure: Failure, window: Optional[float] = None) -> str:
        """Note a failure of `registry`; returns what the per-image log says about it ("" unless it is down)."""
        how = down_as(failure)
        if not how or not registry:
            return ""
        window = self.window if window is None else window
        with self._changed:
            down = self._down.get(registry)
            if down is None:
                down = self._down[registry] = _Down(side, how, time.time(), time.monotonic())
                until = f"; retrying until {clock_time(down.since_wall + window)}" if window else ""
                self._announce(f"{side} {registry} {how} since {clock_time(down.since_wall)} ({failure.label})"
                               f"{until}")
            return f"{down.side} {registry} {down.how} since {clock_time(down.since_wall)}"

    def answered(self, registries: Sequence[str], started: Optional[float] = None) -> None:
        """A call to these registries, begun at `started` (monotonic), succeeded: those down since before it
        began are back, and their waiting retries go. A call begun before a registry went down proves nothing."""
        with self._changed:
            for registry in registries:
                down = self._down.get(registry)
                if down is None or (started is not None and started < down.since):
                    continue
                del self._down[registry]
                self._returns[registry] = self._returns.get(registry, 0) + 1
                self._announce(f"{down.side} {registry} answering again after {time.monotonic() - down.since:.0f} s "
                               f"(down since {clock_time(down.since_wall)})")
                self._changed.notify_all()

    def wait(self, registry: str, seconds: float, stopping: threading.Event) -> None:
        """Sleep `seconds`, less if the run is stopping or `registry` comes back meanwhile."""
        deadline = time.monotonic() + seconds
        with self._changed:
            returns = self._returns.get(registry, 0)
            while not stopping.is_set() and self._returns.get(registry, 0) == returns:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(min(remaining, POLL))


class Watch:
    """One call's view of the outages: which registry a failure blames, and its wait for that one."""

    def __init__(self, outages: Outages, sides: Dict[str, str]):
        self.outages = outages
        self.sides = sides
        self.blamed = ""

    def culprit(self, failure: Failure) -> str:
        return culprit(failure, self.sides)

    def failed(self, failure: Failure, window: Optional[float] = None) -> str:
        self.blamed = self.culprit(failure)
        return self.outages.failed(self.blamed, self.sides.get(self.blamed, ""), failure, window)

    def answered(self, started: Optional[float] = None) -> None:
        self.outages.answered(list(self.sides), started)

    def wait(self, seconds: float, stopping: threading.Event) -> None:
        self.outages.wait(self.blamed, seconds, stopping)
