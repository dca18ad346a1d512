"""What the console says about a phase, fitted to a width; pure, so each layout is a unit test.

A line is made of fields, each with a longest and shorter wordings. When the
terminal is narrow, the least needed wordings go first (elapsed time, the
copied/skipped breakdown, the label, long byte figures), never the counts of
done, total and failed: a narrow terminal still says what went wrong. A bar
is drawn only in the room that is left: tqdm draws it (skomirror.progress) from
`Fitted.bar_format`, and the whole line already fits, so tqdm never has to cut it.
"""

import time
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
CHECKING, MIRRORING, CATALOGS, DELETING = "checking", "mirroring", "catalogs", "deleting"
VERIFYING, UNPACKING = "verifying", "unpacking"  # the parts of shipments, on the disconnected side
MIN_BAR = 10
SHOWN_RUNNING = 4  # in-flight copies listed under the bar


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


def timestamp(now: Optional[float] = None) -> str:
    """The start of a plain (non-terminal) status line: CI logs and nohup files are read later."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))


@dataclass(frozen=True)
class InFlight:
    """A copy running now, for the lines under the bar."""

    name: str
    done: int  # bytes moved so far (what its skopeo read), at most `size`
    size: Optional[int]
    attempt: int


@dataclass
class Snapshot:
    """One moment of a phase: everything a status line shows."""

    label: str
    total: int  # images, or parts
    copied: int = 0
    skipped: int = 0
    failed: int = 0
    to_copy: int = 0  # checking: found missing at the destination
    noun: str = "image"
    stopped: bool = False  # interrupted: what did not end is "not finished", as in the summary
    final: bool = False  # the phase's last line: no ETA
    bytes_done: int = 0
    total_bytes: Optional[int] = None
    rate: Optional[float] = None  # bytes per second, smoothed
    elapsed: float = 0.0
    running: List[InFlight] = field(default_factory=list)
    notice: str = ""  # a registry that is down (skomirror.skopeo.outages)

    @property
    def done(self) -> int:
        return self.copied + self.skipped + self.failed + (0 if self.stopped else self.to_copy)

    @property
    def eta(self) -> Optional[float]:
        if self.total_bytes is None or not self.rate or self.rate <= 0:
            return None
        return max(self.total_bytes - self.bytes_done, 0) / self.rate

    @property
    def fraction(self) -> float:
        if self.total_bytes:
            return min(self.bytes_done / self.total_bytes, 1.0)
        return min(self.done / self.total, 1.0) if self.total else 1.0


def _breakdown(snap: Snapshot) -> List[str]:
    if snap.label == DELETING:  # a deleted manifest counts as copied, one kept or gone as skipped
        return [f"{snap.copied} deleted", f"{snap.skipped} kept or gone"]
    if snap.label == CHECKING and not snap.stopped:
        return [f"{snap.to_copy} to copy", f"{snap.skipped} already mirrored"]
    if snap.label == CHECKING:
        return [f"{snap.skipped} already mirrored"]
    return [f"{snap.copied} copied", f"{snap.skipped} skipped"]


def _count_wordings(snap: Snapshot) -> List[str]:
    """Longest first; every wording keeps done/total and the failed count."""
    done = f"{snap.done}/{snap.total}"
    if snap.noun != "image":  # parts of a shipment: nothing fails without stopping the run
        return [f"{done} {snap.noun}s", done]
    tail = [f"{snap.failed} failed"] + ([f"{snap.total - snap.done} not finished"] if snap.stopped else [])
    full = f"{done} images ({', '.join(_breakdown(snap) + tail)})"
    return [full, f"{done} images, {', '.join(tail)}", f"{done}, {', '.join(tail)}", f"{done}, {snap.failed} failed"]


@dataclass
class _Field:
    wordings: List[str]  # longest first; "" drops the field
    pick: int = 0

    @property
    def text(self) -> str:
        return self.wordings[self.pick]


def _fields(snap: Snapshot) -> List[_Field]:
    """In display order, with the order in which they give up room."""
    fields = {"label": _Field([snap.label, ""]), "counts": _Field(_count_wordings(snap))}
    if snap.total_bytes is not None:
        fields["bytes"] = _Field([f"{format_bytes(snap.bytes_done)} of {format_bytes(snap.total_bytes)}",
                                  f"{format_bytes(snap.bytes_done)}/{format_bytes(snap.total_bytes)}"])
        rate = f"{format_bytes(snap.rate)}/s" if snap.rate is not None else "?/s"
        fields["rate"] = _Field([rate, ""])
        if not snap.final and not snap.stopped:
            fields["eta"] = _Field([f"ETA {format_duration(snap.eta)}", ""])
    fields["elapsed"] = _Field([f"elapsed {format_duration(snap.elapsed)}", ""])
    return list(fields.values())


_GIVE_UP = ("elapsed", "counts", "label", "bytes", "counts", "rate", "eta", "counts")
BAR_EXTRA = len("[] 100%") + 1
MAX_BAR = 60


def _joined(label: str, bar: str, rest: Sequence[str]) -> str:
    return " ".join(part for part in (label, bar, " | ".join(r for r in rest if r)) if part)


def escaped(text: str) -> str:
    """Text as tqdm's bar_format takes it literally: its braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


@dataclass(frozen=True)
class Fitted:
    """A status line laid out for a width: its text before and after the bar, and the bar's cells (0: no bar).
    The bar itself is drawn by tqdm (`bar_format`) or, for a test or a log, with # and - (`text`)."""

    label: str
    rest: List[str]
    cells: int
    fraction: float

    def text(self) -> str:
        if not self.cells:
            return _joined(self.label, "", self.rest)
        filled = int(round(self.fraction * self.cells))
        return _joined(self.label, f"[{'#' * filled}{'-' * (self.cells - filled)}] {self.fraction * 100:3.0f}%",
                       self.rest)

    def bar_format(self) -> str:
        """The same line as tqdm's bar_format: its own bar in the cells left, braces in the text escaped."""
        bar = "[{bar:%d}] {percentage:3.0f}%%" % self.cells if self.cells else ""
        return _joined(escaped(self.label), bar, [escaped(part) for part in self.rest])


def fitted(snap: Snapshot, width: int) -> Fitted:
    """The layout of `snap` in at most `width` characters: wordings shortened in the order of _GIVE_UP
    (never done/total nor the failed count), then a bar in the room left when there are MIN_BAR cells."""
    fields = _fields(snap)
    names = ["label", "counts"] + (["bytes", "rate"] if snap.total_bytes is not None else []) + \
        (["eta"] if snap.total_bytes is not None and not snap.final and not snap.stopped else []) + ["elapsed"]
    by_name = dict(zip(names, fields))

    def line() -> str:
        return _joined(fields[0].text, "", [f.text for f in fields[1:]])

    for name in _GIVE_UP:
        if len(line()) <= width:
            break
        field_ = by_name.get(name)
        if field_ is not None and field_.pick < len(field_.wordings) - 1:
            field_.pick += 1
    cells = min(width - len(line()) - BAR_EXTRA, MAX_BAR)
    rest = [f.text for f in fields[1:]]
    if cells >= MIN_BAR:
        return Fitted(fields[0].text, rest, cells, snap.fraction)
    shown = line()[:width]  # only below the narrowest width the tests check
    return Fitted(shown, [], 0, snap.fraction) if len(line()) > width else Fitted(fields[0].text, rest, 0,
                                                                                  snap.fraction)


def fit(snap: Snapshot, width: int) -> str:
    """The terminal line for `snap`, at most `width` characters, with a bar in the room left."""
    return fitted(snap, width).text()


def plain(snap: Snapshot, now: Optional[float] = None) -> str:
    """The status line where there is no terminal: every field, stamped with the time."""
    text = f"{timestamp(now)} {snap.label}: {_count_wordings(snap)[0]}"
    if snap.total_bytes is not None:
        rate = f"{format_bytes(snap.rate)}/s" if snap.rate is not None else "?/s"
        text += f", {format_bytes(snap.bytes_done)} of {format_bytes(snap.total_bytes)} at {rate}"
        text += "" if snap.final or snap.stopped else f", ETA {format_duration(snap.eta)}"
    text += f", elapsed {format_duration(snap.elapsed)}"
    if snap.running:
        largest = sorted(snap.running, key=lambda r: -(r.size or 0))[:3]
        more = len(snap.running) - len(largest)
        text += f"; running {len(snap.running)}: " + ", ".join(
            f"{r.name} ({format_bytes(r.size)})" for r in largest) + (f", +{more} more" if more else "")
    return f"{text}; {snap.notice}" if snap.notice else text


def _shortened(name: str, width: int) -> str:
    return name if len(name) <= width else "..." + name[len(name) - width + 3:]


def running_lines(running: Sequence[InFlight], width: int, most: int = SHOWN_RUNNING) -> List[str]:
    """The largest copies in flight, one line each, then how many more; each at most `width` characters."""
    largest = sorted(running, key=lambda r: -(r.size or 0))[:max(most, 0)]
    lines = []
    for copy in largest:
        size = f"{format_bytes(copy.done)} of {format_bytes(copy.size)}" if copy.size else format_bytes(copy.done)
        tail = f"  {size}" + (f", attempt {copy.attempt}" if copy.attempt > 1 else "")
        name_room = max(width - len(tail) - 2, 8)
        lines.append(f"  {_shortened(copy.name, name_room)}{tail}"[:width])
    if len(running) > len(largest):
        lines.append(f"  +{len(running) - len(largest)} more running"[:width])
    return lines


def lines_below(snap: Snapshot, width: int, most: int = SHOWN_RUNNING) -> List[str]:
    """What goes under the bar on a terminal: the registry that is down, then the largest copies in flight."""
    notice = [f"  {snap.notice}"[:width]] if snap.notice and most > 0 else []
    return notice + running_lines(snap.running, width, most - len(notice))
