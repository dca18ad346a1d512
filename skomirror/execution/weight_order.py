"""The copies not started yet, heaviest first, kept in order while shared blobs are claimed.

A copy's weight is the bytes it would pull that the destination lacks, a blob counting once per copy that
needs it. Once a copy fetches a shared blob, that blob no longer weighs for the others: they cannot fetch it
and only wait for it. Without this, the copies of a release that share one middle layer all went before the
carrier of the next middle layer, and the copies needing that one then waited together for it with most
slots idle (0.6 s with two copies in flight, in one 28 s run of the benchmark's release set).

Each change moves only the copies that need the blob, by bisection in a sorted list.
"""

import bisect
from collections import Counter
from typing import Dict, Hashable, Iterator, List, Mapping, Sequence, Set, Tuple

Entry = Tuple[int, int, Hashable]  # (-weight, plan position, key): unique, since positions are


class WeightOrder:
    def __init__(self, keys: Sequence[Hashable], missing: Sequence[Mapping[str, int]]):
        """keys: the copies in plan order (the order among equal weights); missing: each one's blobs the
        destination lacks, digest -> size."""
        users = Counter(digest for blobs in missing for digest in blobs)
        self._value: Dict[str, int] = {}  # a shared blob -> what it adds to each copy needing it: size x users
        self._needing: Dict[str, List[Hashable]] = {}
        for key, blobs in zip(keys, missing):
            for digest, size in blobs.items():
                if users[digest] > 1:
                    self._value[digest] = size * users[digest]
                    self._needing.setdefault(digest, []).append(key)
        self._entry: Dict[Hashable, Entry] = {
            key: (-sum(size * users[digest] for digest, size in blobs.items()), position, key)
            for position, (key, blobs) in enumerate(zip(keys, missing))}
        self._sorted: List[Entry] = sorted(self._entry.values())
        self._claimed: Set[str] = set()  # shared blobs weighed for nobody: being fetched or landed

    def __len__(self) -> int:
        return len(self._sorted)

    def __iter__(self) -> Iterator[Hashable]:
        return (entry[2] for entry in self._sorted)

    def remove(self, key: Hashable) -> None:
        """The copy started: it leaves the order."""
        entry = self._entry.pop(key)
        del self._sorted[bisect.bisect_left(self._sorted, entry)]

    def clear(self) -> None:
        self._entry.clear()
        self._sorted.clear()

    def claimed(self, digest: str) -> None:
        """A copy fetches `digest` (or it landed): it weighs for none of the copies still waiting."""
        self._reweigh(digest, claimed=True)

    def unclaimed(self, digest: str) -> None:
        """The copy fetching `digest` failed and nobody else has it: it weighs again."""
        self._reweigh(digest, claimed=False)

    def _reweigh(self, digest: str, claimed: bool) -> None:
        if digest not in self._needing or (digest in self._claimed) == claimed:
            return
        if claimed:
            self._claimed.add(digest)
        else:
            self._claimed.discard(digest)
        change = self._value[digest] if claimed else -self._value[digest]
        for key in self._needing[digest]:
            entry = self._entry.get(key)
            if entry is None:  # started already
                continue
            del self._sorted[bisect.bisect_left(self._sorted, entry)]
            moved = (entry[0] + change, entry[1], key)
            self._entry[key] = moved
            bisect.insort(self._sorted, moved)
