"""The run lock on real files and real processes: refusals, takeovers, and children a killed run left running."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skomirror.errors import SkomirrorError
from skomirror.locking import LOCK_NAME, Holder, Place, me, take
from skomirror.skopeo.processes import ProcessId

PROJECT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from pathlib import Path
from skomirror.locking import Place, me, take
take([Place(Path(sys.argv[1]), "workspace " + sys.argv[1], "give another --workspace")], me(Path(sys.argv[1])),
     print)
print("locked", flush=True)
time.sleep(60)
"""


def place(directory: Path) -> Place:
    return Place(directory, f"workspace {directory}", "give another --workspace")


@pytest.fixture
def holder_process():
    """hold(directory) -> a running Python process holding the lock of `directory`; killed after the test."""
    started = []

    def hold(directory: Path) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", HOLD, str(directory)], stdout=subprocess.PIPE, text=True,
                                   env=dict(os.environ, PYTHONPATH=str(PROJECT)))
        started.append(process)
        assert process.stdout.readline() == "locked\n"
        return process

    yield hold
    for process in started:
        process.kill()
        process.wait()


def write_record(directory: Path, holder: Holder, children=()) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / LOCK_NAME).write_text(holder.line() + "".join(f"child {c.pid} {c.start}\n" for c in children))


def dead_holder(directory: Path) -> Holder:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return Holder(finished.pid, "2024-05-01 12:00:01 +0000", me(directory).host, str(directory))


def test_a_second_run_is_refused_with_the_first_ones_pid_and_start_and_creates_nothing(tmp_path, holder_process):
    workspace, missing = tmp_path / "workspace", tmp_path / "not-yet"
    first = holder_process(workspace)
    said = []
    with pytest.raises(SkomirrorError) as refused:
        take([place(missing), place(workspace)], me(tmp_path / "elsewhere"), said.append)
    message = str(refused.value)
    assert f"workspace {workspace} is in use by another skomirror run (pid {first.pid}, started " in message
    assert f"workspace {workspace})" in message and "give another --workspace" in message  # the other's workspace
    assert "\n" not in message and said == []
    assert not missing.exists()


def test_the_lock_of_a_killed_run_is_taken_over_without_a_word(tmp_path, holder_process):
    workspace = tmp_path / "workspace"
    first = holder_process(workspace)
    first.kill()
    first.wait()
    assert f'"pid": {first.pid}' in (workspace / LOCK_NAME).read_text()  # what it left says it held the lock
    said = []
    locks = take([place(workspace)], me(workspace), said.append)
    assert said == []
    assert f'"pid": {os.getpid()}' in (workspace / LOCK_NAME).read_text()
    locks.release()


@pytest.fixture
def sleeper():
    """sleeper(seconds) -> a running `sleep`, standing for a skopeo child a killed run left; killed after the test."""
    started = []

    def start(seconds: str) -> subprocess.Popen:
        started.append(subprocess.Popen(["sleep", seconds]))
        return started[-1]

    yield start
    for process in started:
        process.kill()
        process.wait()


def test_children_a_killed_run_left_running_are_waited_for_and_a_reused_pid_is_not(tmp_path, sleeper):
    workspace = tmp_path / "workspace"
    leftover = sleeper("1.5")
    ours = ProcessId.of(os.getpid())
    reused = ProcessId(ours.pid, ours.start + 1)  # this pid runs, but it is not the process recorded
    write_record(workspace, dead_holder(workspace),
                 [ProcessId.of(leftover.pid), reused, ProcessId(leftover.pid + 10 ** 6, 1)])
    said = []
    started = time.monotonic()
    locks = take([place(workspace)], me(workspace), said.append)
    assert leftover.poll() is not None and time.monotonic() - started >= 1.0
    assert len(said) == 1 and said[0].startswith("waiting for 1 skopeo process(es) left running by skomirror pid ")
    assert said[0].endswith(f"which has ended: pid {leftover.pid}")
    locks.release()


def test_a_leftover_that_outlasts_the_wait_refuses_the_run_and_frees_the_lock(tmp_path, sleeper):
    workspace = tmp_path / "workspace"
    leftover = sleeper("60")
    write_record(workspace, dead_holder(workspace), [ProcessId.of(leftover.pid)])
    with pytest.raises(SkomirrorError, match=rf"still run after 0.3s .*\(kill {leftover.pid}\)"):
        take([place(workspace)], me(workspace), lambda line: None, wait=0.3)
    assert f"child {leftover.pid} " in (workspace / LOCK_NAME).read_text()  # the next run waits for it too
    leftover.kill()
    leftover.wait()
    take([place(workspace)], me(workspace), lambda line: None).release()  # not held by the refused run


def test_another_machines_children_are_not_looked_for_here(tmp_path, sleeper):
    workspace = tmp_path / "workspace"
    holder = dead_holder(workspace)
    write_record(workspace, Holder(holder.pid, holder.started, "other-host", holder.workspace),
                 [ProcessId.of(sleeper("60").pid)])
    said = []
    take([place(workspace)], me(workspace), said.append).release()
    assert said == []


@pytest.mark.parametrize("content", [b"\x00\xff garbage\nchild x y\n", b'{"pid": "one"}\n',
                                     b"[]\nchild 1\nchild \xc2\xb2 1\n", b"[" * 100_000, b""])
def test_a_damaged_lock_file_is_taken_over(tmp_path, content):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / LOCK_NAME).write_bytes(content)
    take([place(workspace)], me(workspace), lambda line: None).release()


def test_the_record_follows_the_children_and_a_clean_end_empties_it(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    locks = take([place(workspace), place(workspace / "." )], me(workspace), lambda line: None)  # one dir, one lock
    lock_file = workspace / LOCK_NAME
    holder_line = lock_file.read_text()
    locks.record_children([ProcessId(11, 22), ProcessId(33, 44)])
    assert lock_file.read_text() == holder_line + "child 11 22\nchild 33 44\n"
    locks.record_children([ProcessId(33, 44)])
    assert lock_file.read_text() == holder_line + "child 33 44\n"
    locks.release()
    assert lock_file.read_text() == ""


def test_directories_made_only_for_the_lock_go_with_it(tmp_path):
    target = tmp_path / "new" / "mirror"
    take([place(target)], me(target), lambda line: None).release()
    assert not (tmp_path / "new").exists()  # a run that wrote nothing leaves nothing
    locks = take([place(target)], me(target), lambda line: None)
    (target / "written").write_text("kept")
    locks.release()
    assert (target / "written").exists() and (target / LOCK_NAME).read_text() == ""


def test_a_lock_taken_on_a_file_its_holder_just_removed_is_taken_again_on_the_file_on_disk(tmp_path, monkeypatch):
    import skomirror.locking as locking

    target = tmp_path / "new"
    first = take([place(target)], me(target), lambda line: None)
    real_flock = locking.fcntl.flock
    calls = []

    def flock_after_the_holder_left(fd, operation):
        if not calls:  # this taker has opened the old file; its holder ends and removes it before the flock
            first.release()
        calls.append(fd)
        return real_flock(fd, operation)

    monkeypatch.setattr(locking.fcntl, "flock", flock_after_the_holder_left)
    second = take([place(target)], me(target), lambda line: None)
    assert len(calls) == 2
    assert f'"pid": {os.getpid()}' in (target / LOCK_NAME).read_text()  # the lock is on the file others will open
    second.release()
