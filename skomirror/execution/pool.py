"""A fixed number of worker threads pulling tasks until there are none; the main thread only waits.

Workers pull rather than run in batches, so one slow image never holds the
others back, and the main thread stays free to take Ctrl-C or SIGTERM.
"""

import collections
import threading
from typing import Callable, Generic, Iterable, List, Optional, TypeVar

T = TypeVar("T")


class TaskQueue(Generic[T]):
    """A pool's tasks, each handed out once, in order; `clear()` hands out no more (a run being stopped).
    A deque's popleft and clear are atomic: no lock is needed around them."""

    def __init__(self, tasks: Iterable[T]):
        self._tasks = collections.deque(tasks)

    def next(self) -> Optional[T]:
        try:
            return self._tasks.popleft()
        except IndexError:
            return None

    def clear(self) -> None:
        self._tasks.clear()


class WorkerPool(Generic[T]):
    """`size` threads calling `work(task)` for each task `next_task()` hands out, until it returns None."""

    def __init__(self, size: int, next_task: Callable[[], Optional[T]], work: Callable[[T], None]):
        self._next_task = next_task
        self._work = work
        self._errors: List[BaseException] = []
        self._threads = [threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True) for i in range(size)]

    def _loop(self) -> None:
        try:
            while True:
                task = self._next_task()
                if task is None:
                    return
                self._work(task)
        except BaseException as exc:  # a bug in a worker must not vanish with its thread
            self._errors.append(exc)

    def run(self) -> None:
        for thread in self._threads:
            thread.start()
        self.wait()

    def wait(self) -> None:
        """Until every worker is done, or one of them fails: then at once, with its exception."""
        for thread in self._threads:
            while thread.is_alive() and not self._errors:
                thread.join(0.2)  # short joins keep the main thread responsive to signals
        if self._errors:
            raise self._errors[0]
