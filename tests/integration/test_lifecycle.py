"""A run's life: nothing of it runs once it is gone (even after `kill -9`), and one run at a time per place."""

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Dict, Optional

from testkit.images import simple_image
from testkit.wanproxy import WanProxy
from tests.integration.conftest import PROJECT, _command, results, skomirror, skopeo_digest, wait_for, write_isc


def start_time(pid: int) -> Optional[int]:
    """The start of `pid` in clock ticks after boot, read by the test itself; None once it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def skopeo_children(pid: int) -> Dict[int, int]:
    """The skopeo processes whose parent is `pid`, with their start times (a pid alone could be reused)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        if name == "skopeo" and int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found[int(stat.parent.name)] = int(fields[19])
    return found


def still_running(children: Dict[int, int]) -> Dict[int, int]:
    return {pid: start for pid, start in children.items() if start_time(pid) == start}


def start_skomirror(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(_command(args, True), cwd=cwd, env=dict(os.environ, PYTHONPATH=str(PROJECT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def slow_images(source, prefix: str, count: int) -> Dict[str, str]:
    return {f"{prefix}/app{i}": source.push(f"{prefix}/app{i}", "1", simple_image(f"{prefix}{i}", (800_000, 400_000)))
            for i in range(count)}


def test_kill_9_leaves_no_skopeo_running_and_the_rerun_completes(tmp_path, source, destination):
    digests = slow_images(source, "killed", 6)
    with WanProxy(source.port, latency=0.01, connection_rate=3e5, total_rate=1e6) as proxy:
        isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/{repo}:1" for repo in digests])
        dest = f"docker://{destination.host}/mirror"
        process = start_skomirror("--parallel-images", "4", str(isc), dest, cwd=tmp_path)
        try:
            wait_for(lambda: len(skopeo_children(process.pid)) >= 3, 60, "three copies under way")
            children = skopeo_children(process.pid)
            process.kill()
            process.communicate(timeout=10)
            wait_for(lambda: not still_running(children), 2.0, f"the skopeo children {sorted(children)} to end")
        finally:
            if process.poll() is None:
                process.kill()
        left = (tmp_path / "skomirror-workspace" / ".skomirror.lock").read_text()
        assert f'"pid": {process.pid}' in left and "child " in left  # a stale lock: the rerun takes it over

        rerun = skomirror(str(isc), dest, cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stderr
        assert "waiting for" not in rerun.stdout + rerun.stderr  # nothing was left to wait for
    rerun_statuses = {image["status"] for image in results(tmp_path / "skomirror-workspace")["images"]}
    assert rerun_statuses <= {"copied", "skipped"}
    for repo, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/mirror/{repo}:1") == digest


def refused_by(first: subprocess.Popen, result: subprocess.CompletedProcess, what: str) -> None:
    """One line naming the first run's pid and start, a non-zero exit, no output."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{what} is in use by another skomirror run (pid {first.pid}, started " in lines[0], lines[0]


def finish(process: subprocess.Popen) -> str:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stdout + stderr
    return stdout


def test_a_second_run_on_a_workspace_is_refused_dry_run_and_from_too(tmp_path, source, destination):
    digests = slow_images(source, "busy", 4)
    with WanProxy(source.port, latency=0.01, connection_rate=2e5, total_rate=4e5) as proxy:
        isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/{repo}:1" for repo in digests])
        dest = f"docker://{destination.host}/mirror"
        workspace = tmp_path / "skomirror-workspace"
        (tmp_path / "usb").mkdir()
        first = start_skomirror("--parallel-images", "2", str(isc), dest, cwd=tmp_path)
        try:
            wait_for(lambda: skopeo_children(first.pid), 60, "the first run's copies")
            what = f"workspace {workspace}"
            refused_by(first, skomirror(str(isc), dest, cwd=tmp_path), what)
            refused_by(first, skomirror("--dry-run", str(isc), dest, cwd=tmp_path), what)
            refused_by(first, skomirror("--from", f"file://{tmp_path / 'usb'}", dest, cwd=tmp_path), what)
            finish(first)
        finally:
            if first.poll() is None:
                first.kill()
    assert all(path.name.endswith(f"-{first.pid}") for path in (workspace / "logs").iterdir())  # no other run's
    assert not list(workspace.glob("crash-*.log"))
    assert {image["status"] for image in results(workspace)["images"]} == {"copied"}
    for repo, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/mirror/{repo}:1") == digest


def test_a_second_mirror_to_disk_into_one_directory_is_refused_and_the_first_shipment_holds(
        tmp_path, source, registries):
    first_digests = slow_images(source, "first", 3)
    second_digests = slow_images(source, "second", 2)
    disk = tmp_path / "disk"
    with WanProxy(source.port, latency=0.01, connection_rate=3e5, total_rate=6e5) as proxy:
        first_isc = write_isc(tmp_path / "first.yaml", [f"{proxy.host}/{repo}:1" for repo in first_digests])
        second_isc = write_isc(tmp_path / "second.yaml", [f"{proxy.host}/{repo}:1" for repo in second_digests])
        first = start_skomirror(str(first_isc), f"file://{disk}", "--workspace", str(tmp_path / "ws1"),
                                cwd=tmp_path)
        try:
            wait_for(lambda: skopeo_children(first.pid), 60, "the first run's copies")
            second = skomirror(str(second_isc), f"file://{disk}", "--workspace", str(tmp_path / "ws2"),
                               cwd=tmp_path)
            refused_by(first, second, f"DEST file://{disk}")
            assert f"workspace {tmp_path / 'ws1'})" in second.stderr  # where the other run keeps its state
            assert not (tmp_path / "ws2").exists()
            finish(first)
        finally:
            if first.poll() is None:
                first.kill()
    assert [path.name for path in disk.glob("mirror_shipment_*.json")] == ["mirror_shipment_0001.json"]

    disconnected = registries("disconnected")
    pushed = skomirror("--from", f"file://{disk}", f"docker://{disconnected.host}/ocp", "--workspace",
                       str(tmp_path / "ws-disconnected"), cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    for repo, digest in first_digests.items():
        assert skopeo_digest(f"{disconnected.host}/ocp/{repo}:1") == digest
    for repo in second_digests:
        assert skopeo_digest(f"{disconnected.host}/ocp/{repo}:1") is None


def test_a_run_waits_for_the_skopeo_a_killed_run_left_running_and_says_so(tmp_path, source, destination):
    digest = source.push("apps/small", "1", simple_image("small"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/small:1"])
    workspace = tmp_path / "skomirror-workspace"
    workspace.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    leftover = subprocess.Popen(["sleep", "60"])  # stands for a skopeo copy whose skomirror was killed
    record = {"pid": gone.pid, "started": "2024-05-01 12:00:01 +0000", "host": os.uname().nodename,
              "workspace": str(workspace)}
    (workspace / ".skomirror.lock").write_text(f"{json.dumps(record)}\nchild {leftover.pid} "
                                               f"{start_time(leftover.pid)}\n")
    run = start_skomirror(str(isc), f"docker://{destination.host}/mirror", cwd=tmp_path)
    try:
        line = run.stderr.readline()
        assert line == (f"waiting for 1 skopeo process(es) left running by skomirror pid {gone.pid}, started "
                        f"2024-05-01 12:00:01 +0000, which has ended: pid {leftover.pid}\n")
        time.sleep(1)
        assert run.poll() is None and not (workspace / "logs").exists()  # waiting, and nothing written yet
        leftover.kill()  # the leftover ends
        leftover.wait()
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, line + stdout + stderr
    finally:
        for process in (leftover, run):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert skopeo_digest(f"{destination.host}/mirror/apps/small:1") == digest
