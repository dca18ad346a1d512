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
per copy that needs it, so the carrier of a
base layer shared by many goes first and the tail is short; one slot is kept for the smallest
copies so that progress keeps moving.
"""

import threading
from collections import Counter
from typing import Callable, Dict, Generic, List, Optional, Set, Tuple, TypeVar

T = TypeVar("T")
Blobs = Optional[Dict[str, int]]  # digest -> size of everything a copy may write; None when unknown


class BlobScheduler(Generic[T]):
    def __init__(self, tasks: List[T], repository: Callable[[T], str], blobs: Callable[[T], Blobs],
                 ready: Callable[[T], bool] = lambda task: True, admit: Callable[[T], bool] = lambda task: True,
                 claim: Callable[[T], None] = lambda task: None, release: Callable[[T], None] = lambda task: None,
                 small_lane: bool = True, rewritten: Callable[[T], Set[str]] = lambda task: set(),
                 present: Optional[Dict[str, Set[str]]] = None):
        """ready(task): what the task depends on has finished (an operator bundle's related images).
        admit/claim/release: a further limit on what may run at once (per-registry rate limits).
        rewritten(task): digests the copy writes again even when present (its manifests).
        present: repository -> blobs the destination holds already (skomirror.registry.present)."""
        # asked once: every pick scans the waiting tasks, and a finished copy wakes every idle worker
        self._facts: Dict[int, Tuple[str, Blobs, Set[str]]] = {
            id(task): (repository(task), blobs(task), rewritten(task)) for task in tasks}
        self._ready, self._admit, self._claim, self._release = ready, admit, claim, release
        present = present or {}

        missing = {}
        for task in tasks:
            repo, task_blobs, _ = self._facts[id(task)]
            there = present.get(repo, ())
            missing[id(task)] = {digest: size for digest, size in (task_blobs or {}).items() if digest not in there}
        users = Counter(digest for task_missing in missing.values() for digest in task_missing)
        weight = {key: sum(size * users[digest] for digest, size in task_missing.items())
                  for key, task_missing in missing.items()}
        # the tasks not started yet, in both orders: a task leaves both when it starts, so picks scan only these
        self._by_weight: Dict[int, T] = {  # stable: plan order among equals
            id(task): task for task in sorted(tasks, key=lambda task: -weight[id(task)])}
        self._by_size: Dict[int, T] = {id(task): task for task in sorted(
            tasks, key=lambda task: sum((self._facts[id(task)][1] or {}).values()))}
        self._small_lane = small_lane and len(tasks) > 1
        self._small_running: Optional[int] = None
        self._in_repository: Dict[str, Set[str]] = {repo: set(digests) for repo, digests in present.items()}
        # blobs known to be at the destination: nobody fetches them; one that only some of the repositories
        # needing it hold may still be fetched by a copy into another (skopeo mounts only what it knows)
        needed_in: Dict[str, Set[str]] = {}
        for repo, task_blobs, _ in self._facts.values():
            for digest in task_blobs or {}:
                needed_in.setdefault(digest, set()).add(repo)
        self._in_registry: Set[str] = {digest for digest, repos in needed_in.items()
                                       if all(digest in present.get(repo, ()) for repo in repos)}
        self._fetching: Counter = Counter()
        self._linking: Dict[str, Counter] = {}
        self._exclusive: Counter = Counter()  # repositories with a copy of unknown blobs running
        self._running: Dict[int, tuple] = {}  # id -> (repository, fetched, linked)
        self._condition = threading.Condition()
        self._stopped = False

    def _claims(self, task: T):
        """What the task would fetch and link if it started now; None when it cannot start."""
        repository, blobs, rewritten = self._facts[id(task)]
        linking = self._linking.get(repository, Counter())
        if self._exclusive[repository]:
            return None
        if blobs is None:
            return (repository, None, None) if not any(linking.values()) else None
        in_repository = self._in_repository.get(repository, ())
        for digest in blobs:  # most tasks scanned are blocked: find out before building anything
            if digest in in_repository and digest not in rewritten:
                continue  # skopeo skips it: neither fetched nor written
            if (digest not in self._in_registry and self._fetching[digest]) or linking[digest]:
                return None
        fetch = {digest for digest in blobs if digest not in self._in_registry and digest not in in_repository}
        link = {digest for digest in blobs if digest not in in_repository} | rewritten
        return repository, fetch, link

    def _start(self, task: T, claims) -> T:
        repository, fetch, link = claims
        del self._by_weight[id(task)], self._by_size[id(task)]
        if fetch is None:
            self._exclusive[repository] += 1
        else:
            self._fetching.update(fetch)
            self._linking.setdefault(repository, Counter()).update(link)
        self._running[id(task)] = claims
        self._claim(task)
        return task

    def _pick(self, order: Dict[int, T]) -> Optional[T]:
        for task in order.values():  # _start changes `order`: safe only because it returns at once
            if self._ready(task):
                claims = self._claims(task)
                if claims is not None and self._admit(task):
                    return self._start(task, claims)
        return None

    def next(self) -> Optional[T]:
        """The next task that can start now; waits while none can; None when all have started."""
        with self._condition:
            while True:
                if self._stopped or not self._by_weight:
                    return None
                if self._small_lane and self._small_running is None and self._running:
                    task = self._pick(self._by_size)
                    if task is not None:
                        self._small_running = id(task)
                        return task
                task = self._pick(self._by_weight)
                if task is not None:
                    return task
                self._condition.wait()

    def finished(self, task: T, succeeded: bool = True) -> None:
        with self._condition:
            self._release(task)
            repository, fetch, link = self._running.pop(id(task))
            if fetch is None:
                self._exclusive[repository] -= 1
            else:
                self._fetching.subtract(fetch)
                self._linking[repository].subtract(link)
            if self._small_running == id(task):
                self._small_running = None
            if succeeded:
                blobs = self._facts[id(task)][1] or {}
                self._in_registry.update(blobs)
                self._in_repository.setdefault(repository, set()).update(blobs)
            self._condition.notify_all()

    def stop(self) -> List[T]:
        """Start nothing more; returns the tasks that never started."""
        with self._condition:
            self._stopped = True
            never_started = list(self._by_weight.values())
            self._by_weight.clear()
            self._by_size.clear()
            self._condition.notify_all()
            return never_started
