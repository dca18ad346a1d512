"""An append-only journal of finished images: one JSON line each, flushed to disk as it happens.

results.json is written when a run ends; the journal survives a run that
never ends (killed, power lost). Runs that did not complete form a series: a
rerun after one of them trusts the series' entries, but only after checking
the destination (so the source of a finished image need not be read again).
A completed run ends the series, so the next run re-reads tag sources.
"""

import json
import time
from pathlib import Path
from typing import Dict, List, Optional, Set

from skomirror.records import ImageRecord, Status


class Journal:
    def __init__(self, path: Path, run_id: str):
        self.path = path
        self.run_id = run_id
        self.series = run_id
        self._entries: List[dict] = []
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    self._entries.append(json.loads(line))
                except ValueError:
                    continue  # a line torn by a crash
        last_start = next((e for e in reversed(self._entries) if e.get("event") == "run-start"), None)
        if last_start is not None:
            ended = [e for e in self._entries if e.get("event") == "run-end" and e.get("run") == last_start["run"]]
            if not ended or not ended[-1].get("complete"):
                self.series = last_start.get("series", last_start["run"])

    def _append(self, entry: dict) -> None:
        """One write per line, flushed: the line is safe from a crash of skomirror the moment it returns."""
        with open(self.path, "a") as handle:
            handle.write(json.dumps(entry) + "\n")

    def begin(self) -> None:
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
            if entry.get("event") == "image" and entry.get("series") == self.series:
                if entry.get("status") in (Status.COPIED, Status.SKIPPED) and entry.get("digest"):
                    done[entry["destination"]] = entry
                else:
                    done.pop(entry["destination"], None)
        return done

    def failed_last_time(self) -> Optional[Set[str]]:
        """Destinations the previous run failed or left unfinished; None when there was no previous run."""
        runs = [e["run"] for e in self._entries if e.get("event") == "run-start"]
        if not runs:
            return None
        last = runs[-1]
        finished = {e["destination"]: e["status"] for e in self._entries
                    if e.get("event") == "image" and e.get("run") == last}
        return {destination for destination, status in finished.items() if status in (Status.FAILED, Status.INTERRUPTED)}
