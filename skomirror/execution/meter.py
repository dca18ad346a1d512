"""Byte-accurate progress: how much of the unique missing bytes has moved.

The total counts each blob once, however many images share it, and leaves
out what the destination holds already (skomirror.registry.present). A blob's
bytes count as done when the first image carrying it is finished; while a
copy runs, the bytes its skopeo has read so far (/proc/<pid>/io, network
included) count up to what that image still has to bring. Without /proc the
meter moves a whole image at a time. Shown values never go back, not even
when a copy is retried from the start.
"""

import threading
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from skomirror.records import ImageRecord, Status
from skomirror.registry.present import PresentBlobs


class ByteMeter:
    def __init__(self, records: Iterable[ImageRecord], bytes_read: Callable[[ImageRecord], Optional[int]],
                 present: Optional[PresentBlobs] = None):
        """present: what the destination holds already (skomirror.registry.present); it is not counted."""
        self._missing: Dict[str, int] = {}
        for record in records:
            there = (present or {}).get(record.image.destination_repository, ())
            self._missing.update((digest, size) for digest, size in (record.blobs or {}).items()
                                 if digest not in there)
        self.total = sum(self._missing.values())
        self._bytes_read = bytes_read
        self._credited = 0
        self._shown = 0
        self._running: Dict[int, ImageRecord] = {}
        self._seen: Dict[int, int] = {}  # the most each running copy was seen to have read: shown values stay
        self._lock = threading.Lock()

    def started(self, record: ImageRecord) -> None:
        with self._lock:
            self._running[id(record)] = record

    def finished(self, record: ImageRecord) -> None:
        """A copied image brought its blobs; a failed one will not, so they leave the total."""
        with self._lock:
            self._running.pop(id(record), None)
            self._seen.pop(id(record), None)
            for digest in record.blobs or {}:
                size = self._missing.pop(digest, None)
                if size is None:
                    continue
                if record.status == Status.COPIED:
                    self._credited += size
                else:
                    self.total -= size

    def _owed(self, record: ImageRecord) -> int:
        return sum(self._missing.get(digest, 0) for digest in record.blobs or {})

    def in_flight(self) -> List[Tuple[ImageRecord, int]]:
        """The copies running now, each with the bytes its skopeo has read so far (at most the image's size)."""
        with self._lock:
            running = list(self._running.values())
        found = []
        for record in running:
            read = max(min(self._bytes_read(record) or 0, record.size or 0), self._seen.get(id(record), 0))
            with self._lock:
                if id(record) in self._running:
                    self._seen[id(record)] = read
            found.append((record, read))
        return found

    def value(self) -> int:
        with self._lock:
            running = list(self._running.values())
            live = 0
            for record in running:
                read = self._bytes_read(record)
                if read:
                    live += min(read, self._owed(record))
            self._shown = max(self._shown, min(self._credited + live, self.total))
            return self._shown
