"""The console as people see it: a real terminal (tmux) at 80 and 200 columns during a run through a slowed
link, a resize, stderr only, stamped plain lines, the same counts everywhere after Ctrl-C and the resume."""

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skomirror.progress import format_bytes
from testkit.images import simple_image
from testkit.wanproxy import WanProxy
from tests.integration.conftest import PROJECT, interrupted_skomirror, results, skomirror, write_isc

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
BYTES = r"\d+(\.\d)? (B|KiB|MiB) (of |/)\d+(\.\d)? (KiB|MiB)"


class Tmux:
    """A tmux server of the test's own (its socket in tmp_path), running one command in a window of a given size."""

    def __init__(self, socket: Path, command: str, width: int, height: int = 30):
        assert shutil.which("tmux"), "tmux is not installed: run scripts/test.sh, or apt-get install -y tmux"
        self.base = ["tmux", "-S", str(socket), "-f", "/dev/null"]
        subprocess.run(self.base + ["new-session", "-d", "-x", str(width), "-y", str(height),
                                    f"{command}; echo EXIT=$?; sleep 600"], check=True)

    def screen(self):
        shown = subprocess.run(self.base + ["capture-pane", "-p"], capture_output=True, text=True).stdout
        return [line.rstrip() for line in shown.splitlines() if line.strip()]

    def resize(self, width: int) -> None:
        subprocess.run(self.base + ["resize-window", "-x", str(width)], check=True)

    def wait(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.screen()
            if predicate(lines):
                return lines
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen:\n" + "\n".join(self.screen()))

    def kill(self) -> None:
        subprocess.run(self.base + ["kill-server"], capture_output=True)


def status_line(lines):
    """The copy phase's line on the screen, while copies still run (in-flight lines under it)."""
    bars = [i for i, line in enumerate(lines) if line.startswith("mirroring ")]
    if len(bars) == 1 and bars[0] + 1 < len(lines) and lines[bars[0] + 1].startswith("  apps/"):
        return lines[bars[0]]
    return None


@pytest.fixture
def slow_run(tmp_path, source, destination):
    """command(): the shell command of a mirror of 10 images (and 1 missing) through a slow link, with a TTY."""
    for i in range(10):
        source.push(f"apps/app{i}", "1", simple_image(f"console{i}", (500_000 + 40_000 * i, 150_000)))
    with WanProxy(source.port, latency=0.01, connection_rate=250_000, total_rate=700_000) as link:
        isc = write_isc(tmp_path / "isc.yaml", [f"{link.host}/apps/app{i}:1" for i in range(10)] +
                        [f"{link.host}/gone/app:1"])

        def command():
            return (f"cd {tmp_path} && PYTHONPATH={PROJECT} {sys.executable} -m skomirror run "
                    f"--src-tls-verify=false --dest-tls-verify=false --parallel-images 4 {isc} "
                    f"docker://{destination.host}/mirror > {tmp_path}/stdout.txt")

        yield command


def test_at_80_columns_the_failed_count_and_the_bytes_are_on_screen(tmp_path, slow_run):
    terminal = Tmux(tmp_path / "tmux.sock", slow_run(), 80)
    try:
        at_80 = r"^mirroring \d+/11 images, 1 failed \| " + BYTES + r" \| [\d.]+ (B|KiB|MiB)/s \| ETA \d+"
        lines = terminal.wait(lambda rows: re.search(at_80, status_line(rows) or ""), 90, "bytes moving at 80")
        assert all(len(row) <= 80 for row in lines)
        final = terminal.wait(lambda rows: any(row.startswith("EXIT=") for row in rows), 120, "the end")
    finally:
        terminal.kill()
    assert "EXIT=8" in final  # the missing image
    assert [row for row in final if row.startswith("mirroring ")] == \
        [row for row in final if row.startswith("mirroring 11/11 images, 1 failed | ")]  # one line, no stale one
    assert "11 images: 10 copied, 0 skipped (already mirrored), 1 failed" in final
    assert not [row for row in final if row.startswith("  apps/")]  # every in-flight line cleared as it ended
    assert (tmp_path / "stdout.txt").read_text() == ""  # the console is all on stderr


def test_at_200_columns_everything_shows_and_a_resize_to_80_leaves_no_stale_line(tmp_path, slow_run):
    terminal = Tmux(tmp_path / "tmux.sock", slow_run(), 200)
    try:
        at_200 = r"^mirroring \[[^\]]{60}\] +\d+% \d+/11 images \(\d+ copied, 0 skipped, 1 failed\) \| " + BYTES + \
            r" \| [\d.]+ (B|KiB|MiB)/s \| ETA \d+\S* \| elapsed \d+"
        lines = terminal.wait(lambda rows: re.search(at_200, status_line(rows) or ""), 90, "bytes moving at 200")
        line = status_line(lines)
        in_flight = lines[lines.index(line) + 1:]
        assert in_flight and all(re.match(r"  apps/app\d:1  \d", row) or "more running" in row for row in in_flight)

        terminal.resize(80)
        time.sleep(1.5)  # a few redraws at the new width
        lines = terminal.wait(status_line, 30, "the status line at 80 columns")
        assert all(len(row) <= 80 for row in lines)
        line = status_line(lines)
        assert line.startswith("mirroring ") and ", 1 failed | " in line and "/s | ETA" in line, line
        below = lines[lines.index(line) + 1:]
        assert not [row for row in lines[:lines.index(line)] if row.startswith(("  apps/", "mirroring "))], lines
        assert all(row.startswith("  ") for row in below), lines
        terminal.wait(lambda rows: any(row.startswith("EXIT=") for row in rows), 120, "the end")
    finally:
        terminal.kill()


def test_plain_lines_are_stamped_and_stdout_stays_empty(tmp_path, source, destination):
    for i in range(3):
        source.push(f"plain/app{i}", "1", simple_image(f"plain{i}", (300_000,)))
    with WanProxy(source.port, latency=0.01, connection_rate=300_000, total_rate=300_000) as link:
        isc = write_isc(tmp_path / "isc.yaml", [f"{link.host}/plain/app{i}:1" for i in range(3)])
        run = skomirror(str(isc), f"docker://{destination.host}/m", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    stamped = [line for line in run.stderr.splitlines() if re.match(STAMP + r"(checking|mirroring): ", line)]
    assert stamped and re.match(STAMP + r"mirroring: 3/3 images \(3 copied, 0 skipped, 0 failed\), " + BYTES,
                                stamped[-1]), run.stderr
    assert "3 images: 3 copied, 0 skipped (already mirrored), 0 failed" in run.stderr


def skopeo_copies_in(log: str) -> int:
    """`copy attempt N` blocks of a per-image log whose skopeo ran (each ends with its exit line)."""
    blocks = re.split(r"\n(?==== \S+ copy attempt \d+: )", log)
    return sum(bool(re.match(r"=== \S+ copy attempt \d+: ", block.lstrip("\n"))) and "\n=== exit " in block
               for block in blocks)


def counts_agree(stderr: str, workspace: Path):
    """The last status line, the summary and results.json say the same; each record's attempts are its skopeos."""
    document = results(workspace)
    counts = document["run"]["counts"]
    unfinished = counts["interrupted"] + counts["pending"]
    total = sum(counts.values())
    bar = [line for line in stderr.splitlines() if re.match(STAMP + "(checking|mirroring): ", line)][-1]
    words = f"{counts['copied'] + counts['skipped'] + counts['failed']}/{total} images ("
    assert words in bar and f"{counts['failed']} failed" in bar, (bar, counts)
    if unfinished and bar.split(" ", 3)[2] == "mirroring:":
        assert f"{counts['copied']} copied, {counts['skipped']} skipped, {counts['failed']} failed, " \
               f"{unfinished} not finished)" in bar, (bar, counts)
    head = f"{total} images: {counts['copied']} copied, {counts['skipped']} skipped (already mirrored), " \
           f"{counts['failed']} failed" + (f", {unfinished} not finished" if unfinished else "")
    assert head in stderr.splitlines(), (head, stderr)
    for image in document["images"]:
        assert image["attempts"] == skopeo_copies_in(Path(image["log"]).read_text()), image
    return counts


def test_after_ctrl_c_and_the_resume_the_bar_the_summary_and_results_agree(tmp_path, source, destination):
    for i in range(8):
        source.push(f"stop/app{i}", "1", simple_image(f"stop{i}", (500_000, 100_000)))
    workspace = tmp_path / "skomirror-workspace"
    with WanProxy(source.port, latency=0.01, connection_rate=600_000, total_rate=900_000) as link:
        isc = write_isc(tmp_path / "isc.yaml", [f"{link.host}/stop/app{i}:1" for i in range(8)] +
                        [f"{link.host}/stop/gone:1"])
        code, stdout, stderr = interrupted_skomirror("--parallel-images", "3", str(isc),
                                                     f"docker://{destination.host}/m", cwd=tmp_path,
                                                     workspace=workspace, signum=signal.SIGINT, after_copies=2)
        assert code == 130 and stdout == "", stderr
        first = counts_agree(stderr, workspace)
        assert first["interrupted"] >= 1 and first["failed"] == 1 and first["copied"] >= 2

        resumed = skomirror(str(isc), f"docker://{destination.host}/m", cwd=tmp_path)
        assert resumed.returncode == 8, resumed.stderr
        second = counts_agree(resumed.stderr, workspace)
    assert second == {"copied": 8 - first["copied"], "skipped": first["copied"], "failed": 1, "interrupted": 0,
                      "pending": 0}


def test_the_disconnected_side_shows_bytes_while_it_verifies_and_unpacks(tmp_path, source, destination):
    for i in range(3):
        source.push(f"gap/app{i}", "1", simple_image(f"gap{i}", (400_000,)))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/gap/app{i}:1" for i in range(3)])
    to_disk = skomirror(str(isc), f"file://{tmp_path / 'disk'}", "--archive-size", "600KiB", cwd=tmp_path)
    assert to_disk.returncode == 0, to_disk.stderr
    parts = sorted((tmp_path / "disk").glob("mirror_*.tar"))
    size = sum(part.stat().st_size for part in parts)
    assert len(parts) >= 2
    from_disk = skomirror("--from", f"file://{tmp_path / 'disk'}", f"docker://{destination.host}/m",
                          "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert from_disk.returncode == 0, from_disk.stderr
    total = format_bytes(size)
    for phase in ("verifying", "unpacking"):
        lines = [line for line in from_disk.stderr.splitlines() if re.match(STAMP + phase + ": ", line)]
        assert lines and re.search(rf": {len(parts)}/{len(parts)} parts, {total} of {total} at ", lines[-1]), \
            from_disk.stderr
