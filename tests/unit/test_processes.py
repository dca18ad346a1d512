"""The stall watchdog on real child processes."""

import sys
import time

from plumbum import local

from skomirror.skopeo.processes import ChildProcesses, io_bytes


def test_a_child_whose_bytes_stop_moving_is_stopped(tmp_path):
    children = ChildProcesses(stall_timeout=0.6)
    started = time.monotonic()
    completed = children.run(local["sleep"]["30"], tmp_path / "log", "idle")
    assert completed.stalled and completed.returncode != 0
    assert time.monotonic() - started < 10
    assert "stalled: no byte progress for 0.6s" in (tmp_path / "log").read_text()


def test_a_slow_child_that_keeps_moving_bytes_is_left_alone(tmp_path):
    children = ChildProcesses(stall_timeout=0.6)
    script = "import sys,time\nfor i in range(12):\n    sys.stdout.write('x'*100); sys.stdout.flush(); time.sleep(0.2)\n"
    completed = children.run(local[sys.executable]["-c", script], tmp_path / "log", "slow")
    assert not completed.stalled and completed.returncode == 0  # 2.4 s in all, longer than the timeout


def test_io_counters_are_readable_for_our_own_process():
    import os
    assert io_bytes(os.getpid()) is not None


def test_children_that_end_while_being_watched_do_not_turn_stall_detection_off(tmp_path):
    """A child reaped between the watchdog's listing and its read is gone, not unwatchable."""
    from concurrent.futures import ThreadPoolExecutor

    children = ChildProcesses(stall_timeout=0.02)  # the watchdog looks every 5 ms

    def run_short(i: int) -> None:
        children.run(local["true"], tmp_path / f"log{i % 8}", "short")  # a slow start may count as a stall here

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run_short, range(400)))
    assert not children.unwatchable


# --- children die with skomirror ---

KILLED_PARENT = """
import sys, threading
from plumbum import local
from skomirror.execution.pool import WorkerPool
from skomirror.skopeo.processes import ChildProcesses

def report(ids):
    if len(ids) == 3:
        print(" ".join(f"{i.pid}:{i.start}" for i in ids), flush=True)

children = ChildProcesses(on_change=report)
tasks = iter(range(3))
WorkerPool(3, lambda: next(tasks, None), lambda i: children.run(local["sleep"]["60"], sys.argv[1], "sleep")).run()
"""


def _wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_children_started_by_worker_threads_die_within_2s_of_a_kill_9_of_skomirror(tmp_path):
    import os
    import subprocess
    from pathlib import Path
    from skomirror.skopeo.processes import ProcessId

    project = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, str(tmp_path / "log")], stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=str(project)))
    try:
        line = parent.stdout.readline()
        ids = [ProcessId(*map(int, word.split(":"))) for word in line.split()]
        assert len(ids) == 3 and all(i.running() for i in ids)
        parent.kill()
        parent.wait()
        assert _wait_until(lambda: not any(i.running() for i in ids), 2.0), [i for i in ids if i.running()]
    finally:
        parent.kill()
        parent.wait()


def test_the_parent_death_signal_follows_the_thread_that_started_the_child():
    """Why ChildProcesses.run waits for its child: were the starting thread to end first, Linux would kill it."""
    import subprocess
    import threading
    from skomirror.skopeo.processes import _DIE_WITH_PARENT, ProcessId

    started = []
    thread = threading.Thread(target=lambda: started.append(
        subprocess.Popen(["sleep", "60"], preexec_fn=_DIE_WITH_PARENT())))
    thread.start()
    thread.join()
    child = started[0]
    try:
        assert _wait_until(lambda: child.poll() is not None, 2.0)
        assert child.returncode == -9
    finally:
        child.kill()
        child.wait()
    untied = subprocess.Popen(["sleep", "60"])  # the same without the request lives on
    try:
        assert ProcessId.of(untied.pid) is not None and untied.poll() is None
    finally:
        untied.kill()
        untied.wait()


def test_the_children_are_reported_as_they_start_and_end_and_none_outlives_a_failing_wait(tmp_path, monkeypatch):
    import subprocess
    import pytest

    heard = []
    children = ChildProcesses(on_change=lambda ids: heard.append(ids))
    completed = children.run(local["sleep"]["0.3"], tmp_path / "log", "sleep")  # a child done at once goes unheard
    assert completed.returncode == 0
    assert len(heard) == 2 and len(heard[0]) == 1 and heard[1] == []

    def broken(self, *args, **kwargs):
        raise RuntimeError("communicate broke")

    monkeypatch.setattr(subprocess.Popen, "communicate", broken)
    with pytest.raises(RuntimeError):
        children.run(local["sleep"]["60"], tmp_path / "log", "sleep")
    sleeper = heard[2][0]
    assert heard[3] == [] and not sleeper.running()
