"""The stall watchdog on real child processes."""

import sys
import time

from skomirror.skopeo.processes import ChildProcesses, io_bytes


def test_a_child_whose_bytes_stop_moving_is_stopped(tmp_path):
    children = ChildProcesses(stall_timeout=0.6)
    started = time.monotonic()
    completed = children.run(["sleep", "30"], tmp_path / "log", "idle")
    assert completed.stalled and completed.returncode != 0
    assert time.monotonic() - started < 10
    assert "stalled: no byte progress for 0.6s" in (tmp_path / "log").read_text()


def test_a_slow_child_that_keeps_moving_bytes_is_left_alone(tmp_path):
    children = ChildProcesses(stall_timeout=0.6)
    script = "import sys,time\nfor i in range(12):\n    sys.stdout.write('x'*100); sys.stdout.flush(); time.sleep(0.2)\n"
    completed = children.run([sys.executable, "-c", script], tmp_path / "log", "slow")
    assert not completed.stalled and completed.returncode == 0  # 2.4 s in all, longer than the timeout


def test_io_counters_are_readable_for_our_own_process():
    import os
    assert io_bytes(os.getpid()) is not None


def _reading_child(children: ChildProcesses, tag: object, tmp_path, seconds: float):
    """A child started for `tag` in a thread of its own, reading 4 kB every 50 ms for `seconds`."""
    import threading

    script = ("import sys,time\n"
              f"for i in range({int(seconds / 0.05)}):\n    open(sys.executable,'rb').read(4096); time.sleep(0.05)\n")
    worker = threading.Thread(target=children.run, args=([sys.executable, "-c", script], tmp_path / "log", "reader"),
                              kwargs={"tag": tag})
    worker.start()
    return worker


def test_byte_progress_of_a_watched_child_reuses_the_watchdogs_read(tmp_path, monkeypatch):
    """The meter asks every second for each copy; the watchdog has just read /proc: one read a tick, not two."""
    from skomirror.skopeo import processes

    children = ChildProcesses(stall_timeout=0.2)  # the watchdog looks every 50 ms
    tag = object()
    worker = _reading_child(children, tag, tmp_path, seconds=1.5)
    try:
        first = None
        deadline = time.monotonic() + 5
        while first is None and time.monotonic() < deadline:
            first = children.bytes_read(tag)
            time.sleep(0.05)
        time.sleep(0.5)
        reads = []
        real = processes._io_counters
        monkeypatch.setattr(processes, "_io_counters", lambda pid: reads.append(pid) or real(pid))
        later = children.bytes_read(tag)
        assert first is not None and later is not None and later > first  # it keeps moving with the child
        assert reads == []  # answered from the watchdog's last look
    finally:
        worker.join()
    assert children.bytes_read(tag) is None  # ended: nothing left over


def test_byte_progress_without_a_watchdog_reads_proc_itself(tmp_path):
    """--stall-timeout 0: no watchdog runs, and the byte bar still moves."""
    children = ChildProcesses(stall_timeout=None)
    tag = object()
    worker = _reading_child(children, tag, tmp_path, seconds=1.0)
    try:
        seen = None
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            seen = children.bytes_read(tag)
            time.sleep(0.05)
        assert seen
    finally:
        worker.join()


def test_children_that_end_while_being_watched_do_not_turn_stall_detection_off(tmp_path):
    """A child reaped between the watchdog's listing and its read is gone, not unwatchable."""
    from concurrent.futures import ThreadPoolExecutor

    children = ChildProcesses(stall_timeout=0.02)  # the watchdog looks every 5 ms

    def run_short(i: int) -> None:
        children.run(["true"], tmp_path / f"log{i % 8}", "short")  # a slow start may count as a stall here

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run_short, range(400)))
    assert not children.unwatchable


# --- children die with skomirror ---

KILLED_PARENT = """
import sys, threading
from skomirror.execution.pool import WorkerPool
from skomirror.skopeo.processes import ChildProcesses

def report(ids):
    if len(ids) == 3:
        print(" ".join(f"{i.pid}:{i.start}" for i in ids), flush=True)

children = ChildProcesses(on_change=report)
tasks = iter(range(3))
WorkerPool(3, lambda: next(tasks, None), lambda i: children.run(["sleep", "60"], sys.argv[1], "sleep")).run()
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
    from skomirror.skopeo.processes import ProcessId, tied

    project = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, str(tmp_path / "log")], stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=str(project)))
    try:
        line = parent.stdout.readline()
        ids = [ProcessId(*map(int, word.split(":"))) for word in line.split()]
        assert len(ids) == 3 and all(i.running() for i in ids)
        # reported at their start; setpriv makes the parent-death request just after, as it runs the command
        assert _wait_until(lambda: all(tied(i.pid) for i in ids), 2.0)
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
    from skomirror.skopeo.processes import ProcessId, spawn

    started = []
    thread = threading.Thread(target=lambda: started.append(spawn(["sleep", "60"])))
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


def test_a_spawned_child_leads_its_own_session_under_its_own_pid_and_inherits_no_descriptor(tmp_path):
    """A Ctrl-C at the terminal reaches skomirror only; the pid watched and killed is skopeo's own."""
    import os
    from skomirror.skopeo.processes import spawn

    reader, writer = os.pipe()  # non-inheritable, as Python opens every descriptor
    script = "import os; print(os.getpid(), os.getsid(0), sorted(int(fd) for fd in os.listdir('/proc/self/fd')))"
    try:
        child = spawn([sys.executable, "-c", script], stdout=open(tmp_path / "out", "w"))
        child.wait()
        pid, session, descriptors = (tmp_path / "out").read_text().split(" ", 2)
        assert int(pid) == child.pid == int(session) != os.getsid(0)
        assert reader not in eval(descriptors) and writer not in eval(descriptors)
    finally:
        os.close(reader)
        os.close(writer)


def test_children_are_tied_by_util_linux_where_it_can_and_the_log_shows_the_skopeo_command(tmp_path):
    import os
    from skomirror.skopeo.processes import tie_prefix

    prefix = tie_prefix()
    if prefix is not None:
        assert [os.path.basename(prefix[0]), os.path.basename(prefix[1])] == ["setsid", "setpriv"]
        assert prefix[2:] == ["--pdeathsig", "KILL", "--"]
    ChildProcesses().run(["echo", "a b"], tmp_path / "log", "echo")
    assert "echo: echo 'a b'\n" in (tmp_path / "log").read_text()


def test_the_children_are_reported_as_they_start_and_end_and_none_outlives_a_failing_wait(tmp_path, monkeypatch):
    import subprocess
    import pytest

    heard = []
    children = ChildProcesses(on_change=lambda ids: heard.append(ids))
    completed = children.run(["sleep", "0.3"], tmp_path / "log", "sleep")  # a child done at once goes unheard
    assert completed.returncode == 0
    assert len(heard) == 2 and len(heard[0]) == 1 and heard[1] == []

    def broken(self, *args, **kwargs):
        raise RuntimeError("communicate broke")

    monkeypatch.setattr(subprocess.Popen, "communicate", broken)
    with pytest.raises(RuntimeError):
        children.run(["sleep", "60"], tmp_path / "log", "sleep")
    sleeper = heard[2][0]
    assert heard[3] == [] and not sleeper.running()
