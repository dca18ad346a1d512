"""TaskQueue and WorkerPool: every task handed out exactly once, however many workers pull."""

import threading

from skomirror.execution.pool import TaskQueue, WorkerPool


def test_each_task_is_worked_once_by_many_workers():
    queue, seen, lock = TaskQueue(range(5000)), [], threading.Lock()

    def work(task: int) -> None:
        with lock:
            seen.append(task)

    WorkerPool(16, queue.next, work).run()
    assert sorted(seen) == list(range(5000)) and queue.next() is None


def test_a_cleared_queue_hands_out_nothing_more():
    queue = TaskQueue(["a", "b", "c"])
    assert queue.next() == "a"
    queue.clear()
    assert queue.next() is None
