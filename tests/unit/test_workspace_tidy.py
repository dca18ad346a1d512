"""The workspace stays tidy: the logs of the last N runs, and a journal compacted to what the next run reads."""

import json
import random
from pathlib import Path

import pytest

from skomirror.journal import Journal
from skomirror.records import ImageRecord
from skomirror.workspace import Workspace
from tests.unit.conftest import planned

DIGEST = "sha256:" + "b" * 64


def test_the_logs_of_the_last_n_runs_are_kept_this_one_counted(tmp_path):
    logs = tmp_path / "logs"
    older = [logs / f"2024010{day}-120000-{100 + day}" for day in range(1, 8)]
    for directory in older:
        directory.mkdir(parents=True)
        (directory / "0001_a_1.log").write_text("=== copy attempt 1\n")
    (logs / "mine").mkdir()  # not a run's: never touched
    workspace = Workspace(tmp_path).prepare()
    removed = workspace.prune_logs(3)
    assert removed == older[:5]
    assert sorted(p.name for p in logs.iterdir()) == sorted([older[5].name, older[6].name, "mine",
                                                             workspace.logs.name])
    assert workspace.prune_logs(1) == older[5:] and workspace.logs.is_dir()


def image_record(name: str, status: str) -> ImageRecord:
    return ImageRecord(planned(f"src.io/{name}:1", "dst.io/m"), Path(f"/ws/{name}.log"), status=status,
                       digest=DIGEST if status in ("copied", "skipped") else None, attempts=1)


def answers(journal: Journal):
    return {d: e["digest"] for d, e in journal.trusted().items()}, journal.failed_last_time(), journal.series


def one_run(path, run_id, outcomes, complete, compacting=True):
    """A run as Run drives the journal: begin, an entry per settled image, end; returns what it read first."""
    journal = Journal(path, run_id)
    if not compacting:
        journal.compact = lambda: None
    before = answers(journal)
    journal.begin()
    for name, status in outcomes.items():
        journal.record(image_record(name, status))
    journal.end(complete)
    return before


@pytest.mark.parametrize("seed", range(6))
def test_compaction_keeps_what_trusted_and_failed_last_time_read(tmp_path, seed):
    """Runs of random outcomes, complete or not: a compacted journal answers exactly as the whole one."""
    chance = random.Random(seed)
    whole, compacted = tmp_path / "whole.jsonl", tmp_path / "compacted.jsonl"
    names, completed = [f"app{i}" for i in range(8)], []
    for number in range(1, 12):
        complete = chance.random() < 0.4  # a complete run mirrored everything it was given
        choices = ["copied", "skipped"] if complete else ["copied", "skipped", "failed", "interrupted"]
        outcomes = {name: chance.choice(choices) for name in names if chance.random() < 0.7}
        run_id = f"run-{number:02d}"
        expected = one_run(whole, run_id, outcomes, complete, compacting=False)  # the reference keeps everything
        assert one_run(compacted, run_id, outcomes, complete) == expected, number
        completed.append(complete)
    kept, every = len(compacted.read_text().splitlines()), len(whole.read_text().splitlines())
    assert kept < every if any(completed[:-2]) else kept <= every


def test_a_long_history_compacts_to_the_last_run(tmp_path):
    path = tmp_path / "journal.jsonl"
    for number in range(1, 51):
        one_run(path, f"run-{number:02d}", {f"app{i}": "copied" for i in range(20)}, complete=True)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert {entry["run"] for entry in entries} == {"run-49", "run-50"}  # run-50 appended after run-49's compaction
    assert len(entries) == 2 * 22
    journal = Journal(path, "run-51")
    assert journal.failed_last_time() == set() and journal.trusted() == {} and journal.series == "run-51"
    journal.begin()
    assert {json.loads(line)["run"] for line in path.read_text().splitlines()} == {"run-50", "run-51"}


def test_an_unfinished_series_is_kept_whole_and_a_torn_line_is_dropped(tmp_path):
    path = tmp_path / "journal.jsonl"
    one_run(path, "run-01", {"a": "copied"}, complete=True)
    one_run(path, "run-02", {"b": "copied", "c": "interrupted"}, complete=False)
    one_run(path, "run-03", {"c": "copied", "d": "failed"}, complete=False)
    with path.open("a") as handle:
        handle.write('{"event": "image", "run": "run-03", "ser')  # a crash mid-line
    journal = Journal(path, "run-04")
    assert journal.series == "run-02" and set(journal.trusted()) == {"docker://dst.io/m/b:1", "docker://dst.io/m/c:1"}
    journal.begin()
    runs = [json.loads(line)["run"] for line in path.read_text().splitlines()]
    assert "run-01" not in runs and {"run-02", "run-03", "run-04"} == set(runs)
    again = Journal(path, "run-05")
    assert again.series == "run-02" and set(again.trusted()) == set(journal.trusted())
    assert again.failed_last_time() == set()  # run-04 settled nothing
