"""The status line at any width: done/total and the failed count are never cut, the rest gives way in order."""

import pytest

from skomirror.status import CHECKING, DELETING, MIRRORING, InFlight, Snapshot, fit, plain, running_lines

GiB, MiB = 1024 ** 3, 1024 ** 2


def copying(**changes) -> Snapshot:
    values = dict(label=MIRRORING, total=120, copied=30, skipped=5, failed=2, bytes_done=int(1.2 * GiB),
                  total_bytes=5 * GiB, rate=12.3 * MiB, elapsed=62)
    values.update(changes)
    return Snapshot(**values)


@pytest.mark.parametrize("width, expected", [
    (200, "mirroring [##############----------------------------------------------]  24% 37/120 images (30 copied, "
          "5 skipped, 2 failed) | 1.2 GiB of 5.0 GiB | 12.3 MiB/s | ETA 5m16s | elapsed 1m02s"),
    (120, "mirroring 37/120 images (30 copied, 5 skipped, 2 failed) | 1.2 GiB of 5.0 GiB | 12.3 MiB/s | ETA 5m16s | "
          "elapsed 1m02s"),
    (79, "mirroring 37/120 images, 2 failed | 1.2 GiB of 5.0 GiB | 12.3 MiB/s | ETA 5m16s"),
    (59, "37/120, 2 failed | 1.2 GiB/5.0 GiB | 12.3 MiB/s | ETA 5m16s"),
    (40, "37/120, 2 failed | 1.2 GiB/5.0 GiB"),
])
def test_the_copy_line_at_each_width(width, expected):
    assert fit(copying(), width) == expected
    assert len(expected) <= width


@pytest.mark.parametrize("width", range(24, 240, 7))
def test_at_every_width_from_24_the_counts_and_the_failed_count_are_there(width):
    for snap in (copying(), copying(copied=1000, skipped=111, failed=123, total=5678, bytes_done=123 * GiB,
                                    total_bytes=457 * GiB, elapsed=18000, stopped=True)):
        line = fit(snap, width)
        assert len(line) <= width
        assert f"{snap.done}/{snap.total}" in line and f"{snap.failed} failed" in line, (width, line)
        if width >= 79:  # an 80-column terminal: bytes, rate and ETA too
            assert "GiB" in line and "/s" in line and ("ETA" in line or snap.stopped), (width, line)


def test_large_figures_still_fit_80_columns_with_bytes_rate_and_eta():
    line = fit(copying(copied=1000, skipped=111, failed=123, total=5678, bytes_done=int(123.4 * GiB),
                       total_bytes=int(456.7 * GiB), rate=123.4 * MiB), 79)
    assert line == "1234/5678 images, 123 failed | 123.4 GiB/456.7 GiB | 123.4 MiB/s | ETA 46m06s"


def test_a_stopped_run_says_not_finished_and_no_eta_at_the_end():
    line = fit(copying(stopped=True, final=True, copied=3, skipped=0, failed=1, total=11), 200)
    assert "4/11 images (3 copied, 0 skipped, 1 failed, 7 not finished)" in line and "ETA" not in line


def test_checking_and_deleting_have_their_own_words():
    assert fit(Snapshot(CHECKING, 120, skipped=15, failed=2, to_copy=20), 80) == \
        "checking 37/120 images (20 to copy, 15 already mirrored, 2 failed) | elapsed 0s"
    assert fit(Snapshot(DELETING, 10, copied=6, skipped=2, failed=1), 80).startswith(
        "deleting 9/10 images (6 deleted, 2 kept or gone, 1 failed)")


def test_the_plain_line_has_everything_and_the_time():
    snap = copying(running=[InFlight("ns/big:1", 100 * MiB, 2 * GiB, 1), InFlight("ns/mid:1", 0, 300 * MiB, 1),
                            InFlight("ns/small:1", 0, MiB, 1), InFlight("ns/tiny:1", 0, 1024, 1)])
    assert plain(snap, now=0).split(" ", 2)[2] == (
        "mirroring: 37/120 images (30 copied, 5 skipped, 2 failed), 1.2 GiB of 5.0 GiB at 12.3 MiB/s, ETA 5m16s, "
        "elapsed 1m02s; running 4: ns/big:1 (2.0 GiB), ns/mid:1 (300.0 MiB), ns/small:1 (1.0 MiB), +1 more")


def test_running_lines_list_the_largest_first_and_count_the_rest():
    running = [InFlight(f"ns/app{i}:1", i * MiB, (i + 1) * 10 * MiB, 1 + (i == 3)) for i in range(6)]
    assert running_lines(running, 60, 3) == ["  ns/app5:1  5.0 MiB of 60.0 MiB", "  ns/app4:1  4.0 MiB of 50.0 MiB",
                                             "  ns/app3:1  3.0 MiB of 40.0 MiB, attempt 2", "  +3 more running"]
    assert running_lines(running, 60, 0) == ["  +6 more running"]


def test_tqdm_gets_the_same_line_with_its_bar_in_the_cells_left_and_braces_escaped():
    from tqdm import tqdm

    from skomirror.status import Fitted, fitted

    layout = fitted(copying(), 200)
    assert layout.bar_format() == ("mirroring [{bar:60}] {percentage:3.0f}% 37/120 images (30 copied, 5 skipped, "
                                   "2 failed) | 1.2 GiB of 5.0 GiB | 12.3 MiB/s | ETA 5m16s | elapsed 1m02s")
    drawn = tqdm.format_meter(24, 100, 0, ncols=200, bar_format=layout.bar_format(), ascii="-#")
    assert drawn == fit(copying(), 200)  # tqdm draws what the fitting laid out, not a character more
    assert Fitted("a {b}", ["c}"], 0, 0.5).bar_format() == "a {{b}} c}}"
