import io
import time

from skomirror.progress import CHECKING, MIRRORING, Counts, Progress, format_bytes, format_duration


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_mode_prints_a_status_line_per_interval_and_one_at_the_end():
    stream = io.StringIO()
    progress = Progress(stream, interactive=False, interval=0.05)
    progress.start(MIRRORING, images=4, total_bytes=4096, already=Counts(done=1, skipped=1))
    progress.advance("copied")
    progress.set_bytes(1024)
    progress.advance("failed")
    progress.set_bytes(2048)
    progress.set_bytes(1500)  # a retry starts over: the count does not go back

    time.sleep(0.12)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2
    assert lines[-1].startswith("mirroring: 3/4 images (1 copied, 1 skipped, 1 failed), 2.0 KiB of 4.0 KiB at ")
    assert "ETA" in lines[-1] and "\r" not in stream.getvalue()


def test_checking_phase_counts_what_is_left_to_copy():
    stream = io.StringIO()
    progress = Progress(stream, interactive=False, interval=60)
    progress.start(CHECKING, images=3)
    for status in ("pending", "skipped", "failed"):
        progress.advance(status)
    progress.finish()
    assert stream.getvalue().strip().startswith(
        "checking: 3/3 images (1 to copy, 1 already mirrored, 1 failed)")


def test_terminal_mode_draws_one_tqdm_bar_in_bytes_with_the_counts():
    stream = FakeTerminal()
    progress = Progress(stream, interval=60)
    assert progress.interactive
    progress.start(MIRRORING, images=2, total_bytes=2 * 1024 * 1024)
    progress.set_bytes(1024 * 1024)
    progress.advance("copied")
    progress.say("a message above the bar")
    progress.set_bytes(2 * 1024 * 1024)
    progress.advance("copied")
    progress.finish()
    output = stream.getvalue()
    assert "mirroring: 100%" in output and "2/2 images (2 copied, 0 skipped, 0 failed)" in output
    assert "2.00M/2.00M" in output and "a message above the bar" in output


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
    ticks = [line for line in lines if line.startswith("mirroring: ")]
    assert ticks[0].endswith(" s)") and "; destination 127.0.0.1:5001 not answering since " in ticks[0]
    assert ticks[-1].endswith("elapsed 0s")  # back: the notice is gone
    assert sum(line.startswith("destination 127.0.0.1:5001 answering again") for line in lines) == 1
