"""The console: stamped plain lines, tqdm lines that fit and clear, counts that agree with the summary."""

import io
import re
import time
from pathlib import Path

from skomirror.outputs import RunInfo, summary_lines
from skomirror.progress import CHECKING, MIRRORING, Counts, InFlight, Progress, format_bytes, format_duration
from skomirror.records import Failure, FailureKind, ImageRecord, Status
from skomirror.status import Fitted
from skomirror.terminal import CSI, TerminalLines
from skomirror.workspace import Workspace
from tests.unit.conftest import planned

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
ESCAPE = re.compile(r"\x1b\[\d*[AJK]")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen_lines(output: str):
    """What is left on each row once the escapes are taken out (each \\r starts the row again)."""
    return [ESCAPE.sub("", part.split("\r")[-1]) for part in output.split("\n")]


def test_plain_mode_prints_a_stamped_status_line_per_interval_and_one_at_the_end():
    stream = io.StringIO()
    progress = Progress(stream, interactive=False, interval=0.05)
    progress.start(MIRRORING, images=4, total_bytes=4096, already=Counts(skipped=1))
    progress.advance(Status.COPIED)
    progress.set_bytes(1024)
    progress.advance(Status.FAILED)
    progress.set_bytes(2048)
    progress.set_bytes(1500)  # a retry starts over: the count does not go back

    time.sleep(0.12)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2 and all(re.match(STAMP + "mirroring: ", line) for line in lines), lines
    assert re.match(STAMP + r"mirroring: 3/4 images \(1 copied, 1 skipped, 1 failed\), 2.0 KiB of 4.0 KiB at ",
                    lines[-1])
    assert "ETA" in lines[-2] and "ETA" not in lines[-1] and "\r" not in stream.getvalue()


def test_checking_phase_counts_what_is_left_to_copy():
    stream = io.StringIO()
    progress = Progress(stream, interactive=False, interval=60)
    progress.start(CHECKING, images=3)
    for status in (Status.PENDING, Status.SKIPPED, Status.FAILED):
        progress.advance(status)
    progress.finish()
    assert re.match(STAMP + r"checking: 3/3 images \(1 to copy, 1 already mirrored, 1 failed\)", stream.getvalue())


def records(statuses):
    return [ImageRecord(planned(f"src.io/app{i}:1", "dst.io/m"), Path(f"/ws/logs/{i}.log"), status=status,
                        failure=Failure(FailureKind.PERMANENT, "image not found", "") if status == "failed" else None)
            for i, status in enumerate(statuses)]


def test_after_an_interrupt_the_bar_and_the_summary_give_the_same_numbers(tmp_path):
    """Before: the bar said "19 failed" where the summary said "0 failed, 39 not finished"."""
    settled = [Status.COPIED] * 3 + [Status.SKIPPED] * 2 + [Status.FAILED] + [Status.INTERRUPTED] * 4
    every = records(settled + [Status.PENDING] * 2)
    stream = io.StringIO()
    progress = Progress(stream, interactive=False, interval=60)
    progress.start(MIRRORING, len(every), 1000, already=Counts(skipped=2))
    for status in settled[:3] + settled[5:]:
        progress.advance(status)
    progress.finish(interrupted=True)
    bar = stream.getvalue()
    assert "6/12 images (3 copied, 2 skipped, 1 failed, 6 not finished)" in bar, bar
    head = summary_lines(every, RunInfo("docker://dst.io/m", "1.9.3", "now"), Workspace(tmp_path))[0]
    assert head == "12 images: 3 copied, 2 skipped (already mirrored), 1 failed, 6 not finished"


def test_an_interrupt_with_nothing_settled_since_still_says_not_finished():
    stream = io.StringIO()
    progress = Progress(stream, interactive=False, interval=60)
    progress.start(CHECKING, images=5)
    progress.advance(Status.PENDING)
    progress.advance(Status.SKIPPED)
    progress.interrupted()
    progress.finish()
    assert "1/5 images (1 already mirrored, 0 failed, 4 not finished)" in stream.getvalue()


def test_terminal_mode_redraws_in_place_within_the_width_and_leaves_the_last_line():
    stream = FakeTerminal()
    running = [InFlight("ns/a-very-long-repository-name-that-goes-on-and-on/app:1.2.3", 5 << 20, 40 << 20, 2),
               InFlight("ns/small:1", 1 << 20, 2 << 20, 1)]
    progress = Progress(stream, columns=lambda: 80, redraw=0.02)
    assert progress.interactive
    progress.start(MIRRORING, images=4, total_bytes=64 << 20, running=lambda: running)
    progress.set_bytes(6 << 20)
    progress.advance(Status.COPIED)
    progress.advance(Status.FAILED)
    time.sleep(0.1)
    progress.say("a message above the bar")
    running.pop()  # a copy ended: its line goes
    time.sleep(0.1)
    progress.finish()
    output = stream.getvalue()
    rows = screen_lines(output)
    assert all(len(row) <= 79 for row in rows), [row for row in rows if len(row) > 79]
    assert "a message above the bar" in rows and f"{CSI}K" in output
    assert any(row.startswith("  ...") and row.endswith("-on-and-on/app:1.2.3  5.0 MiB of 40.0 MiB, attempt 2")
               for row in rows)
    after_the_end = output[output.rindex("ns/small:1"):]
    assert f"\n\r{CSI}K" in after_the_end  # tqdm cleared the line of the copy that ended
    last = [row for row in rows if row][-1]
    assert last.startswith("mirroring 2/4 images, 1 failed | 6.0 MiB of 64.0 MiB |"), last
    assert output.endswith("\n") and "ETA" not in last


def test_a_wide_terminal_gets_a_tqdm_bar_in_the_room_left():
    stream = FakeTerminal()
    progress = Progress(stream, columns=lambda: 200, redraw=10)
    progress.start(MIRRORING, images=4, total_bytes=100 << 20)
    progress.set_bytes(50 << 20)
    progress.finish()
    last = [row for row in screen_lines(stream.getvalue()) if row][-1]
    assert re.match(r"mirroring \[#{30}[ 0-9]{30}\]  50% 0/4 images \(0 copied, 0 skipped, 0 failed\) \| "
                    r"50.0 MiB of 100.0 MiB \| ", last), last
    assert len(last) <= 199


def test_a_narrower_terminal_clears_the_rows_its_reflowed_line_now_takes():
    stream, width = FakeTerminal(), [200]
    lines = TerminalLines(stream, lambda: width[0])
    lines.draw(Fitted("x" * 150, [], 0, 0.0), ["  y" * 10])  # drawn at 200 columns: one row each
    stream.seek(0), stream.truncate()
    width[0] = 80  # 150 characters now fill two rows, the cursor at the end of the second
    lines.draw(Fitted("z" * 70, [], 0, 0.0), [])
    assert stream.getvalue().startswith(f"\r{CSI}1A{CSI}J")
    stream.seek(0), stream.truncate()
    width[0] = 120  # wider: nothing was reflowed, nothing to clear
    lines.draw(Fitted("z" * 70, [], 0, 0.0), [])
    assert f"{CSI}J" not in stream.getvalue() and stream.getvalue().endswith("\r" + "z" * 70 + f"{CSI}K")


def test_a_sigwinch_redraws_at_once_and_erases_what_the_narrower_terminal_reflowed():
    import os
    import signal

    stream, width = FakeTerminal(), [200]
    progress = Progress(stream, columns=lambda: width[0], redraw=3600)  # no redraw but the resize's
    before = signal.getsignal(signal.SIGWINCH)
    progress.start(MIRRORING, images=4, total_bytes=100 << 20)
    drawn = len(stream.getvalue())
    width[0] = 60
    os.kill(os.getpid(), signal.SIGWINCH)
    deadline = time.monotonic() + 5
    while len(stream.getvalue()) == drawn and time.monotonic() < deadline:
        time.sleep(0.01)
    redrawn = stream.getvalue()[drawn:]
    progress.finish()
    assert redrawn.startswith(f"\r{CSI}2A{CSI}J")  # its line of 166 characters took three rows at 60 columns
    assert all(len(row) <= 59 for row in screen_lines(redrawn))
    assert signal.getsignal(signal.SIGWINCH) is before  # given back when the phase ends


def test_error_level_shows_no_bar_and_no_news_but_warnings_and_the_summary():
    stream = FakeTerminal()
    progress = Progress(stream, level="error", columns=lambda: 80)
    progress.start(MIRRORING, images=2)
    progress.advance(Status.COPIED)
    progress.say("news")
    progress.debug("detail")
    progress.finish()
    progress.warn("a warning")
    progress.summary(["2 images: 2 copied"])
    assert stream.getvalue() == "skomirror: warning: a warning\n2 images: 2 copied\n"


def test_debug_level_shows_each_image_as_it_ends():
    stream = io.StringIO()
    progress = Progress(stream, interactive=False, level="debug")
    progress.debug("copied src.io/app:1 -> dst.io/m/app:1 (1 attempt, 2s)")
    assert stream.getvalue() == "copied src.io/app:1 -> dst.io/m/app:1 (1 attempt, 2s)\n"
    quiet = io.StringIO()
    Progress(quiet, interactive=False).debug("not at info")
    assert quiet.getvalue() == ""


def test_byte_phases_count_parts():
    stream = io.StringIO()
    progress = Progress(stream, interactive=False, interval=60)
    progress.start("unpacking", 2, 2048, noun="part")
    progress.add_bytes(1024)
    progress.step()
    progress.add_bytes(1024)
    progress.step()
    progress.finish()
    assert re.match(STAMP + r"unpacking: 2/2 parts, 2.0 KiB of 2.0 KiB at ", stream.getvalue())


def test_formats():
    assert format_bytes(None) == "?" and format_bytes(512) == "512 B" and format_bytes(3 * 1024 ** 3) == "3.0 GiB"
    assert format_duration(59) == "59s" and format_duration(61) == "1m01s" and format_duration(3700) == "1h01m40s"


def test_the_status_line_says_which_registry_is_down_so_the_run_does_not_look_hung():
    from skomirror.records import Failure, FailureKind
    from skomirror.skopeo.outages import Outages

    stream = io.StringIO()
    progress = Progress(stream, interactive=False, interval=0.05)
    outages = Outages(window=600, say=progress.say)
    progress.notice = outages.status
    progress.start(MIRRORING, images=2)
    outages.failed("127.0.0.1:5001", "destination",
                   Failure(FailureKind.TRANSIENT, "connection refused", "dial tcp 127.0.0.1:5001: connection refused"))
    time.sleep(0.12)
    outages.answered(["127.0.0.1:5001"])
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("destination 127.0.0.1:5001 not answering since ")  # said at once, once
    ticks = [line for line in lines if re.match(STAMP + "mirroring: ", line)]
    assert ticks[0].endswith(" s)") and "; destination 127.0.0.1:5001 not answering since " in ticks[0]
    assert ticks[-1].endswith("elapsed 0s")  # back: the notice is gone
    assert sum(line.startswith("destination 127.0.0.1:5001 answering again") for line in lines) == 1
