"""Durations on the command line: seconds, or as oc-mirror writes them; how the retry flags combine."""

import pytest

import skomirror.run as run_module  # cli.py imports run when the command runs
from skomirror.cli import main
from skomirror.durations import duration_text, parse_duration
from skomirror.skopeo.retry import DEFAULT_RETRY_WINDOW, RetryPolicy


@pytest.mark.parametrize("text, seconds", [
    ("0", 0.0), ("90", 90.0), ("1.5", 1.5), ("10s", 10.0), ("2m", 120.0), ("1h", 3600.0), ("1h30m", 5400.0),
    ("1m30s", 90.0), ("500ms", 0.5), (" 10m ", 600.0), (".5s", 0.5), ("0s", 0.0), ("2m30s", 150.0),
    ("10m0s", 600.0), ("1.5s", 1.5),
])
def test_parses_seconds_and_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "ten", "10x", "-5s", "10 m", "m", "1h-1m", "5s3", "s", "10d"])
def test_refuses_anything_else(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_defaults_are_shown_as_oc_mirror_writes_them():
    assert [duration_text(value) for value in (600, 300, 3600, 90, 5400, 0.5, 1.5, 0)] == \
        ["10m", "5m", "1h", "1m30s", "1h30m", "0.5s", "1.5s", "0s"]
    assert parse_duration(duration_text(DEFAULT_RETRY_WINDOW)) == DEFAULT_RETRY_WINDOW


def options_of(argv, monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(run_module, "run", lambda options, progress, warn: seen.append(options) or 0)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["run", *argv, "file://out"])
    return seen[0]


@pytest.mark.parametrize("argv, policy, stall", [
    ([], RetryPolicy(None, 600.0, 0.0), 300.0),
    (["--retry-window", "2m", "--retry-delay", "1s", "--stall-timeout", "90"], RetryPolicy(None, 120.0, 1.0), 90.0),
    (["--retry-times", "2"], RetryPolicy(2, 600.0, 0.0), 300.0),  # oc-mirror's flag: a cap within the window
    (["--retry-window", "0", "--stall-timeout", "0"], RetryPolicy(None, 0.0, 0.0), None),
])
def test_the_retry_flags_make_the_policy(argv, policy, stall, monkeypatch, tmp_path):
    options = options_of(argv, monkeypatch, tmp_path)
    assert (options.retry, options.stall_timeout) == (policy, stall)


def test_a_bad_duration_is_one_usage_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["run", "--retry-window", "ten minutes", "file://out"])
    err = capsys.readouterr().err
    assert exited.value.code == 1 and len(err.splitlines()) == 1
    assert err.startswith("skomirror: error: Invalid value for '--retry-window': 'ten minutes' is not a duration")
