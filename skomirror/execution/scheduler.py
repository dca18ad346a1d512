"""Which copy starts next: layer-aware, so that no blob is fetched twice or raced into one repository.

Two rules, from what each copy carries (its blobs and manifests, learned by the survey):
- fetch once: a blob the destination does not have yet is fetched by one copy at a time; the
  others wait until it is there, and then skopeo skips it (or mounts it from another repository);
- link once: within one destination repository, a blob not yet in that repository is written
  (uploaded or mounted) by one copy at a time. distribution 2.8 rewrites a repository's blob
  links in place, and two writers race (500 on a blob check, `manifest blob unknown`).
  Manifests count as written every time: skopeo puts them again even when they are there.
A copy whose blobs are unknown runs alone in its repository.

Order: largest first by the bytes still missing at the destination, where a blob counts once
per copy that needs it, so the carrier of a base layer shared by many goes first and the tail is
short; a shared blob stops counting for the others once a copy fetches it, so the carriers of the
next shared blobs go before the copies that only wait (`weight_order`); one slot is kept for the
smallest copies so that progress keeps moving.

The choice is pure (`missing_blobs`, `smallest_first`, `may_start`, `blocker`, `candidates`, `choose`): it reads what waits
and what is in flight and says what may start, so it is tested as a table. BlobScheduler only
holds that state, applies the claim of what starts, and waits on a condition until something may.
A copy found waiting is set aside under what it waits for (`blocker`) and asked again only once a
copy holding that finishes: 264 copies of a release set asked may_start 21,820 times without this.
"""

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import (AbstractSet, Callable, Dict, Generic, Hashable, Iterable, Iterator, List, Mapping, Optional,
                    Protocol, Sequence, Set, Tuple, TypeVar)

from skomirror.execution.weight_order import WeightOrder
from skomirror.records import Blobs

T = TypeVar("T")


@dataclass(frozen=True)
class Waiting:
    """A copy not started yet, as the choice sees it."""
    repository: str
    blobs: Blobs
    rewritten: AbstractSet[str] = frozenset()  # written again even when present (its manifests)


@dataclass(frozen=True)
class InFlight:
    """All the choice reads besides the waiting copies. Counts of zero mean nobody."""
    fetching: Mapping[str, int] = field(default_factory=dict)  # digest -> copies fetching it
    linking: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # repository -> digest -> writers
    exclusive: Mapping[str, int] = field(default_factory=dict)  # repository -> copies of unknown blobs in it
    in_registry: AbstractSet[str] = frozenset()  # at the destination wherever needed: nobody fetches them
    in_repository: Mapping[str, AbstractSet[str]] = field(default_factory=dict)  # repository -> blobs it holds
    running: int = 0
    small_lane_free: bool = False  # the lane is kept and nobody is in it


@dataclass(frozen=True)
class Claim:
    """What a started copy holds until it finishes; the scheduler gives back exactly this."""
    repository: str
    fetch: AbstractSet[str] = frozenset()
    link: AbstractSet[str] = frozenset()
    exclusive: bool = False  # blobs unknown: alone in its repository
    small: bool = False  # started in the small lane


def missing_blobs(copies: Sequence[Waiting], present: Mapping[str, AbstractSet[str]]) -> List[Dict[str, int]]:
    """Each copy's blobs its repository at the destination lacks, digest -> size."""
    return [{digest: size for digest, size in (copy.blobs or {}).items()
             if digest not in present.get(copy.repository, ())} for copy in copies]


def smallest_first(copies: Sequence[Waiting]) -> List[int]:
    """Indices of copies by their blobs' bytes, smallest first (the small lane's order); plan order among equals.
    The other order, heaviest first, is WeightOrder's."""
    return sorted(range(len(copies)), key=lambda i: sum((copies[i].blobs or {}).values()))


def known_in_registry(copies: Iterable[Waiting], present: Mapping[str, AbstractSet[str]]) -> Set[str]:
    """Blobs every repository needing them holds already. One that only some hold may still be fetched
    by a copy into another (skopeo mounts only what it knows of), so it is not counted."""
    needed_in: Dict[str, Set[str]] = {}
    for copy in copies:
        for digest in copy.blobs or {}:
            needed_in.setdefault(digest, set()).add(copy.repository)
    return {digest for digest, repos in needed_in.items()
            if all(digest in present.get(repo, ()) for repo in repos)}


def may_start(copy: Waiting, flight: InFlight) -> Optional[Claim]:
    """What the copy would fetch and link if it started now; None when it must wait."""
    repository = copy.repository
    if flight.exclusive.get(repository, 0):
        return None
    linking = flight.linking.get(repository, {})
    if copy.blobs is None:
        return None if any(linking.values()) else Claim(repository, exclusive=True)
    in_repository = flight.in_repository.get(repository, ())
    for digest in copy.blobs:  # most copies asked are blocked: find out before building anything
        if digest in in_repository and digest not in copy.rewritten:
            continue  # skopeo skips it: neither fetched nor written
        if (digest not in flight.in_registry and flight.fetching.get(digest, 0)) or linking.get(digest, 0):
            return None
    fetch = frozenset(d for d in copy.blobs if d not in flight.in_registry and d not in in_repository)
    link = frozenset(d for d in copy.blobs if d not in in_repository) | copy.rewritten
    return Claim(repository, fetch, link)


def blocker(copy: Waiting, flight: InFlight) -> Optional[Hashable]:
    """What the copy waits for, None when it may start (exactly when may_start gives a claim): its repository
    (a copy of unknown blobs there, or one of unknown blobs waiting for the repository), ("fetch", digest) or
    ("link", repository, digest). Only a copy that holds it can release it, when that copy finishes."""
    repository = copy.repository
    linking = flight.linking.get(repository, {})
    if flight.exclusive.get(repository, 0) or (copy.blobs is None and any(linking.values())):
        return ("repository", repository)
    if copy.blobs is None:
        return None
    in_repository = flight.in_repository.get(repository, ())
    for digest in copy.blobs:
        if digest in in_repository and digest not in copy.rewritten:
            continue
        if digest not in flight.in_registry and flight.fetching.get(digest, 0):
            return ("fetch", digest)
        if linking.get(digest, 0):
            return ("link", repository, digest)
    return None


def released_by(claim: Claim) -> List[Hashable]:
    """What a finished copy's claim frees, in blocker's terms."""
    return ([("repository", claim.repository)] + [("fetch", digest) for digest in claim.fetch]
            + [("link", claim.repository, digest) for digest in claim.link])


def _startable(waiting: Iterable[Tuple[T, Waiting]], flight: InFlight, ready: Callable[[T], bool],
               blocked: Callable[[T, Waiting], None]) -> Iterator[Tuple[T, Claim]]:
    for task, copy in waiting:
        if ready(task):
            claim = may_start(copy, flight)
            if claim is not None:
                yield task, claim
            else:
                blocked(task, copy)


def candidates(by_weight: Iterable[Tuple[T, Waiting]], by_size: Iterable[Tuple[T, Waiting]], flight: InFlight,
               ready: Callable[[T], bool] = lambda task: True,
               blocked: Callable[[T, Waiting], None] = lambda task, copy: None) -> Iterator[Tuple[T, Claim]]:
    """Every waiting task that may start now, in the order to try them: the smallest first while the
    small lane is free and something runs (so it never holds the first copy back), then the largest.
    Lazy: the caller takes the first a further limit (a registry slot) lets through. blocked(task, copy)
    hears of each ready task found waiting."""
    if flight.small_lane_free and flight.running:
        for task, claim in _startable(by_size, flight, ready, blocked):
            yield task, replace(claim, small=True)
    yield from _startable(by_weight, flight, ready, blocked)


def choose(by_weight: Iterable[Tuple[T, Waiting]], by_size: Iterable[Tuple[T, Waiting]], flight: InFlight,
           ready: Callable[[T], bool] = lambda task: True) -> Optional[Tuple[T, Claim]]:
    """The task to start now and what it claims; None when every waiting task must wait."""
    return next(candidates(by_weight, by_size, flight, ready), None)


class Releasable(Protocol):
    def release(self) -> None: ...


class _Free:
    def release(self) -> None:
        pass


_FREE = _Free()


class BlobScheduler(Generic[T]):
    def __init__(self, tasks: List[T], repository: Callable[[T], str], blobs: Callable[[T], Blobs],
                 ready: Callable[[T], bool] = lambda task: True,
                 acquire: Callable[[T], Optional[Releasable]] = lambda task: _FREE,
                 small_lane: bool = True, rewritten: Callable[[T], Set[str]] = lambda task: set(),
                 present: Optional[Dict[str, Set[str]]] = None):
        """ready(task): what the task depends on has finished (an operator bundle's related images).
        acquire(task): a further limit (per-registry rate limits): what to release when the task
        finishes, or None while it may not start.
        rewritten(task): digests the copy writes again even when present (its manifests).
        present: repository -> blobs the destination holds already (skomirror.registry.present)."""
        present = present or {}
        # asked once: every pick scans the waiting tasks, and a finished copy wakes every idle worker
        copies = [Waiting(repository(task), blobs(task), frozenset(rewritten(task))) for task in tasks]
        self._waiting: Dict[int, Waiting] = {id(task): copy for task, copy in zip(tasks, copies)}
        self._tasks: Dict[int, T] = {id(task): task for task in tasks}
        # the tasks not started yet, in both orders: a task leaves both when it starts, so picks scan only these
        self._by_weight = WeightOrder([id(task) for task in tasks], missing_blobs(copies, present))
        self._by_size: Dict[int, T] = {id(tasks[i]): tasks[i] for i in smallest_first(copies)}
        self._ready, self._acquire = ready, acquire
        self._small_lane = small_lane and len(tasks) > 1
        self._small_busy = False
        self._in_repository: Dict[str, Set[str]] = {repo: set(digests) for repo, digests in present.items()}
        self._in_registry: Set[str] = known_in_registry(copies, present)
        self._fetching: Counter = Counter()
        self._linking: Dict[str, Counter] = {}
        self._exclusive: Counter = Counter()
        self._running: Dict[int, Tuple[Claim, Releasable]] = {}
        self._set_aside: Set[int] = set()  # tasks waiting for a blocker, left out of the scans
        self._blocked_on: Dict[Hashable, List[int]] = {}  # blocker -> tasks set aside for it
        self._condition = threading.Condition()
        self._stopped = False

    def _flight(self) -> InFlight:
        """A view of the live state, not a copy: read under the condition, before anything changes."""
        return InFlight(self._fetching, self._linking, self._exclusive, self._in_registry, self._in_repository,
                        running=len(self._running), small_lane_free=self._small_lane and not self._small_busy)

    def _pick(self) -> Optional[T]:
        def waiting(keys: Iterable[int]) -> Iterator[Tuple[T, Waiting]]:
            return ((self._tasks[key], self._waiting[key]) for key in keys if key not in self._set_aside)

        flight = self._flight()

        def set_aside(task: T, copy: Waiting) -> None:
            reason = blocker(copy, flight)
            if reason is not None:
                self._set_aside.add(id(task))
                self._blocked_on.setdefault(reason, []).append(id(task))

        scan = candidates(waiting(self._by_weight), waiting(self._by_size.keys()), flight, self._ready, set_aside)
        try:
            for task, claim in scan:
                slot = self._acquire(task)
                if slot is not None:
                    break
            else:
                return None
        finally:
            scan.close()  # before _start changes the orders it walks
        self._start(task, claim, slot)
        return task

    def _start(self, task: T, claim: Claim, slot: Releasable) -> None:
        self._by_weight.remove(id(task))
        del self._by_size[id(task)]
        if claim.exclusive:
            self._exclusive[claim.repository] += 1
        else:
            self._fetching.update(claim.fetch)
            for digest in claim.fetch:
                self._by_weight.claimed(digest)
            self._linking.setdefault(claim.repository, Counter()).update(claim.link)
        self._small_busy = self._small_busy or claim.small
        self._running[id(task)] = (claim, slot)

    def next(self) -> Optional[T]:
        """The next task that can start now; waits while none can; None when all have started."""
        with self._condition:
            while True:
                if self._stopped or not self._by_weight:
                    return None
                task = self._pick()
                if task is not None:
                    return task
                self._condition.wait()

    def finished(self, task: T, succeeded: bool = True) -> None:
        with self._condition:
            claim, slot = self._running.pop(id(task))
            slot.release()
            if claim.exclusive:
                self._exclusive[claim.repository] -= 1
            else:
                self._fetching.subtract(claim.fetch)
                self._linking[claim.repository].subtract(claim.link)
            if claim.small:
                self._small_busy = False
            if succeeded:
                blobs = self._waiting[id(task)].blobs or {}
                self._in_registry.update(blobs)
                self._in_repository.setdefault(claim.repository, set()).update(blobs)
            else:
                for digest in claim.fetch:
                    if self._fetching[digest] <= 0 and digest not in self._in_registry:
                        self._by_weight.unclaimed(digest)
            for reason in released_by(claim):
                self._set_aside.difference_update(self._blocked_on.pop(reason, ()))
            self._condition.notify_all()

    def stop(self) -> List[T]:
        """Start nothing more; returns the tasks that never started."""
        with self._condition:
            self._stopped = True
            never_started = [self._tasks[key] for key in self._by_weight]
            self._by_weight.clear()
            self._by_size.clear()
            self._condition.notify_all()
            return never_started
