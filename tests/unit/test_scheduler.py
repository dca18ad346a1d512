import threading
import time

from skomirror.scheduler import RepositoryScheduler


def scheduler_for(tasks):
    """tasks: (name, repository, footprint or None)"""
    return RepositoryScheduler(list(tasks), repository=lambda t: t[1], footprint=lambda t: t[2])


def test_copies_into_different_repositories_run_together():
    s = scheduler_for([("a", "r1", frozenset({"x"})), ("b", "r2", frozenset({"x"}))])
    assert s.next()[0] == "a" and s.next()[0] == "b"


def test_same_repository_with_a_shared_blob_waits_and_the_next_disjoint_task_goes_first():
    s = scheduler_for([("a", "r", frozenset({"base", "a1"})), ("b", "r", frozenset({"base", "b1"})),
                       ("c", "r", frozenset({"c1"}))])
    first = s.next()
    assert first[0] == "a"
    assert s.next()[0] == "c"  # b shares "base" with a; c shares nothing
    s.finished(first)
    assert s.next()[0] == "b"


def test_unknown_footprint_is_exclusive_in_its_repository():
    s = scheduler_for([("a", "r", None), ("b", "r", frozenset({"y"})), ("c", "other", None)])
    a = s.next()
    assert s.next()[0] == "c"
    s.finished(a)
    assert s.next()[0] == "b"


def test_never_two_conflicting_tasks_at_once_under_threads():
    tasks = [(f"t{i}", "one/repo", frozenset({"base", f"own{i}"})) for i in range(8)]
    s = scheduler_for(tasks)
    running, peak, lock, done = [], [0], threading.Lock(), []

    def worker():
        while True:
            task = s.next()
            if task is None:
                return
            with lock:
                running.append(task)
                peak[0] = max(peak[0], len(running))
            time.sleep(0.01)
            with lock:
                running.remove(task)
                done.append(task[0])
            s.finished(task)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak[0] == 1 and sorted(done) == sorted(t[0] for t in tasks)


def test_stop_returns_what_never_started_and_wakes_waiters():
    s = scheduler_for([("a", "r", None), ("b", "r", None), ("c", "r", None)])
    s.next()
    result = []
    waiter = threading.Thread(target=lambda: result.append(s.next()))
    waiter.start()
    time.sleep(0.05)
    never = s.stop()
    waiter.join(5)
    assert result == [None] and [t[0] for t in never] == ["b", "c"]


def test_a_task_waits_for_what_it_depends_on():
    done = set()
    tasks = [("bundle", "r1", frozenset({"b"})), ("related", "r2", frozenset({"x"}))]
    s = RepositoryScheduler(tasks, lambda t: t[1], lambda t: t[2],
                            ready=lambda t: t[0] != "bundle" or "related" in done)
    related = s.next()
    assert related[0] == "related"
    waiter = []
    thread = threading.Thread(target=lambda: waiter.append(s.next()))
    thread.start()
    time.sleep(0.05)
    assert waiter == []  # the bundle cannot start while its related image is copying
    done.add("related")
    s.finished(related)
    thread.join(5)
    assert waiter[0][0] == "bundle"
