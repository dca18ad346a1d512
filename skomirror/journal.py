"""An append-only journal of finished images: one JSON line each, flushed to disk as it happens.

results.json is written when a run ends; the journal survives a run that
never ends (killed, power lost). Runs that did not complete form a series: a
rerun after one of them trusts the series' entries, but only after checking
the destination (so the source of a finished image need not be read again).
A completed run ends the series, so the next run re-reads tag sources.

A journal is only a shortcut, so a damaged one (not JSON, not UTF-8, a key
missing or of the wrong type) is never an error: it is set aside under
another name, with a warning, and the run trusts what the destination holds.
The one damage a crash leaves, a last line cut short, is expected and skipped.

Each run starts by compacting the journal to what the readers below need
(the last run's entries, and the current series' when it goes on), so it
stays as long as one series of runs, not as long as the workspace's history.
"""

import json
import time
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from skomirror.errors import InvalidReference, SkomirrorError, cut
from skomirror.files import replace_file
from skomirror.imageref import check_digest
from skomirror.records import ImageRecord, Status

_STATUSES = {status.value for status in Status}
_REQUIRED = {  # what the readers below use, per event
    "run-start": {"run": str},
    "run-end": {"run": str, "complete": bool},
    "image": {"run": str, "series": str, "source": str, "destination": str, "status": str},
}


class DamagedJournal(ValueError):
    """What is wrong with a journal, for the warning."""


def _checked(line: str, number: int) -> dict:
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        raise DamagedJournal(f"line {number} is not JSON") from None
    if not isinstance(entry, dict):
        raise DamagedJournal(f"line {number} is not a JSON object")
    required = _REQUIRED.get(entry.get("event")) if isinstance(entry.get("event"), str) else None
    if required is None:
        raise DamagedJournal(f"line {number}: event is not one of {', '.join(_REQUIRED)}")
    for key, kind in required.items():
        if not isinstance(entry.get(key), kind):
            raise DamagedJournal(f"line {number}: {key} is {'missing' if key not in entry else 'of the wrong type'}")
    if entry["event"] == "run-start" and not isinstance(entry.get("series", ""), str):
        raise DamagedJournal(f"line {number}: series is of the wrong type")
    if entry["event"] == "image":
        if entry["status"] not in _STATUSES:
            raise DamagedJournal(f"line {number}: status {cut(entry['status'], 20)!r} is not one of "
                                 f"{', '.join(sorted(_STATUSES))}")
        digest = entry.get("digest")
        try:
            if digest is not None:
                check_digest(digest)
        except (InvalidReference, TypeError):
            raise DamagedJournal(f"line {number}: digest is not a digest") from None
    return entry


def read_entries(text: str) -> Tuple[List[dict], bool]:
    """The entries of a journal's text, and whether its last line was cut short by a crash (and skipped)."""
    lines = text.split("\n")
    complete, last = lines[:-1], lines[-1]
    entries = [_checked(line, number) for number, line in enumerate(complete, 1) if line.strip()]
    try:
        json.loads(last or "null")
    except (ValueError, RecursionError):
        return entries, True
    if last.strip():  # whole, only its newline missing: read as any other line
        entries.append(_checked(last, len(lines)))
    return entries, False


class Journal:
    def __init__(self, path: Path, run_id: str):
        self.path = path
        self.run_id = run_id
        self.series = run_id
        self.warnings: List[str] = []  # one line each, for the run to print and keep in results.json
        self._entries: List[dict] = []
        self._cut_at: Optional[int] = None  # the last line was cut short: cut it off before the next entry
        if path.exists() or path.is_symlink():
            self._read()
        last_start = next((e for e in reversed(self._entries) if e["event"] == "run-start"), None)
        if last_start is not None:
            ended = [e for e in self._entries if e["event"] == "run-end" and e["run"] == last_start["run"]]
            if not ended or not ended[-1]["complete"]:
                self.series = last_start.get("series", last_start["run"])

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
            text = data.decode("utf-8")
            self._entries, torn = read_entries(text)
            if torn:
                self._cut_at = data.rfind(b"\n") + 1
        except (OSError, UnicodeDecodeError, DamagedJournal) as exc:
            problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
                "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            self._set_aside(problem)

    def _set_aside(self, problem: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged-{self.run_id}")
        try:
            self.path.rename(aside)
        except OSError as exc:
            raise SkomirrorError(f"{self.path}: damaged ({problem}) and cannot be set aside: "
                                 f"{exc.strerror or exc}; move it away and run again") from None
        self._entries = []
        self.warnings.append(f"{self.path}: damaged ({problem}); set aside as {aside.name}: this run checks "
                             f"every image at the destination instead of trusting the journal")

    def _append(self, entry: dict) -> None:
        """One write per line, flushed: the line is safe from a crash of skomirror the moment it returns."""
        with open(self.path, "a") as handle:
            if self._cut_at is not None:
                handle.truncate(self._cut_at)
                self._cut_at = None
            handle.write(json.dumps(entry) + "\n")

    def _needed(self) -> List[dict]:
        """What `trusted()` and `failed_last_time()` read, and what sets the series on the next load."""
        starts = [e for e in self._entries if e["event"] == "run-start"]
        if not starts:
            return []
        runs = {starts[-1]["run"]} | {e["run"] for e in starts if e.get("series", e["run"]) == self.series}
        return [e for e in self._entries
                if e["run"] in runs or (e["event"] == "image" and e["series"] == self.series)]

    def compact(self) -> None:
        """Rewrite the journal with only what is needed, atomically: a crash leaves the old one or the new one."""
        needed = self._needed()
        if len(needed) == len(self._entries) and self._cut_at is None:
            return
        replace_file(self.path, "".join(json.dumps(entry) + "\n" for entry in needed), durable=True,
                     suffix="compacting")
        self._entries, self._cut_at = needed, None

    def begin(self) -> None:
        self.compact()
        self._append({"event": "run-start", "run": self.run_id, "series": self.series, "time": time.time()})

    def end(self, complete: bool) -> None:
        self._append({"event": "run-end", "run": self.run_id, "complete": complete, "time": time.time()})

    def record(self, record: ImageRecord) -> None:
        self._append({"event": "image", "run": self.run_id, "series": self.series, "time": time.time(),
                      "source": record.image.source_spec, "destination": record.image.destination_spec,
                      "digest": record.digest, "status": record.status, "attempts": record.attempts})

    def trusted(self) -> Dict[str, dict]:
        """Images the current series finished: destination -> its entry (the last one wins)."""
        done: Dict[str, dict] = {}
        for entry in self._entries:
            if entry["event"] == "image" and entry["series"] == self.series:
                if entry["status"] in (Status.COPIED, Status.SKIPPED) and entry.get("digest"):
                    done[entry["destination"]] = entry
                else:
                    done.pop(entry["destination"], None)
        return done

    def failed_last_time(self) -> Optional[Set[str]]:
        """Destinations the previous run failed or left unfinished; None when there was no previous run."""
        runs = [e["run"] for e in self._entries if e["event"] == "run-start"]
        if not runs:
            return None
        last = runs[-1]
        finished = {e["destination"]: e["status"] for e in self._entries
                    if e["event"] == "image" and e["run"] == last}
        return {destination for destination, status in finished.items() if status in (Status.FAILED, Status.INTERRUPTED)}
