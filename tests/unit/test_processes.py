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
