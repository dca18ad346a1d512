"""Which copy may start next, so that concurrent copies never race each other.

distribution 2.8 (the registry oc-mirror embeds, and Debian's) rewrites a
repository's blob link files in place. Two copies into the same repository
that upload the same new blob then fail with a 500 on a blob check,
`manifest blob unknown` or `digest invalid`, and skopeo does not retry those.
So a copy starts only when no running copy into the same destination
repository shares a blob or manifest with it. Copies into other repositories,
or with nothing in common, run side by side.
"""

import threading
from typing import Callable, Dict, FrozenSet, Generic, List, Optional, TypeVar

T = TypeVar("T")
# A task's footprint: blob and manifest digests it may upload. None means unknown: exclusive in its repository.
Footprint = Optional[FrozenSet[str]]


class RepositoryScheduler(Generic[T]):
    def __init__(self, tasks: List[T], repository: Callable[[T], str], footprint: Callable[[T], Footprint],
                 ready: Callable[[T], bool] = lambda task: True, admit: Callable[[T], bool] = lambda task: True,
                 claim: Callable[[T], None] = lambda task: None, release: Callable[[T], None] = lambda task: None):
        """ready(task): whether what the task depends on has finished (an operator bundle's related images).

        admit/claim/release: a further limit on what may run at once (per-registry rate limits).
        """
        self._pending = list(tasks)
        self._repository = repository
        self._footprint = footprint
        self._ready = ready
        self._admit, self._claim, self._release = admit, claim, release
        self._running: Dict[str, List[Footprint]] = {}
        self._condition = threading.Condition()
        self._stopped = False

    def _conflicts(self, task: T) -> bool:
        mine = self._footprint(task)
        for other in self._running.get(self._repository(task), ()):
            if mine is None or other is None or mine & other:
                return True
        return False

    def next(self) -> Optional[T]:
        """The first pending task in plan order that can start now; waits while none can; None when done."""
        with self._condition:
            while True:
                if self._stopped or not self._pending:
                    return None
                for index, task in enumerate(self._pending):
                    if self._ready(task) and not self._conflicts(task) and self._admit(task):
                        del self._pending[index]
                        self._claim(task)
                        self._running.setdefault(self._repository(task), []).append(self._footprint(task))
                        return task
                self._condition.wait()

    def finished(self, task: T) -> None:
        with self._condition:
            self._release(task)
            running = self._running[self._repository(task)]
            running.remove(self._footprint(task))
            if not running:
                del self._running[self._repository(task)]
            self._condition.notify_all()

    def stop(self) -> List[T]:
        """Start nothing more; returns the tasks that never started."""
        with self._condition:
            self._stopped = True
            never_started, self._pending = self._pending, []
            self._condition.notify_all()
            return never_started
