"""A damaged journal is set aside with one warning, and the run trusts the destination; a torn last line is not
damage."""

import json

import pytest

from skomirror.journal import Journal

DIGEST = "sha256:" + "a" * 64
START = {"event": "run-start", "run": "run-1", "series": "run-1", "time": 1.0}
IMAGE = {"event": "image", "run": "run-1", "series": "run-1", "time": 2.0, "source": "docker://q.io/a/b:1",
         "destination": "docker://m.io/a/b:1", "digest": DIGEST, "status": "copied", "attempts": 1}
END = {"event": "run-end", "run": "run-1", "complete": False, "time": 3.0}


def lines(*entries) -> bytes:
    return b"".join(json.dumps(entry).encode() + b"\n" for entry in entries)


def without(entry: dict, key: str) -> dict:
    return {k: v for k, v in entry.items() if k != key}


DAMAGED = {
    "random bytes": (b"\x8f\xff\x00garbage\xfe\n" * 20, "not UTF-8 text"),
    "not JSON": (lines(START) + b"{this is not json\n" + lines(IMAGE), "line 2 is not JSON"),
    "nested past the parser": (lines(START) + b"[" * 100_000 + b"\n", "line 2 is not JSON"),
    "a list": (lines(START, [1, 2]), "line 2 is not a JSON object"),
    "no event": (lines(START, without(IMAGE, "event")), "line 2: event is not one of"),
    "unknown event": (lines(START, dict(IMAGE, event="imaged")), "line 2: event is not one of"),
    "event of the wrong type": (lines(START, dict(IMAGE, event=["image"])), "line 2: event is not one of"),
    "destination missing": (lines(START, without(IMAGE, "destination")), "line 2: destination is missing"),
    "status a number": (lines(START, dict(IMAGE, status=3)), "line 2: status is of the wrong type"),
    "unknown status": (lines(START, dict(IMAGE, status="done")), "line 2: status 'done' is not one of"),
    "digest not a digest": (lines(START, dict(IMAGE, digest="sha256:../../etc")), "line 2: digest is not a digest"),
    "digest a number": (lines(START, dict(IMAGE, digest=12)), "line 2: digest is not a digest"),
    "run a number": (lines(dict(START, run=7)), "line 1: run is of the wrong type"),
    "series a list": (lines(dict(START, series=[])), "line 1: series is of the wrong type"),
    "complete a string": (lines(START, dict(END, complete="yes")), "line 2: complete is of the wrong type"),
    "whole last line, damaged": (lines(START) + json.dumps(dict(IMAGE, status=None)).encode(),
                                 "line 2: status is of the wrong type"),
}


@pytest.mark.parametrize("name", list(DAMAGED))
def test_a_damaged_journal_is_set_aside_with_one_warning(tmp_path, name):
    data, problem = DAMAGED[name]
    path = tmp_path / "journal.jsonl"
    path.write_bytes(data)
    journal = Journal(path, "run-2")
    aside = tmp_path / "journal.jsonl.damaged-run-2"
    assert journal.warnings == [f"{path}: damaged ({problem}{journal.warnings[0].split(problem, 1)[1]}"]
    assert journal.warnings[0].endswith("; set aside as journal.jsonl.damaged-run-2: this run checks every image "
                                        "at the destination instead of trusting the journal")
    assert aside.read_bytes() == data and not path.exists()
    assert journal.trusted() == {} and journal.failed_last_time() is None and journal.series == "run-2"
    journal.begin()
    assert [json.loads(line)["event"] for line in path.read_text().splitlines()] == ["run-start"]


def test_a_journal_that_cannot_be_read_is_set_aside_too(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.mkdir()
    journal = Journal(path, "run-2")
    assert journal.warnings[0].startswith(f"{path}: damaged (Is a directory); set aside as journal.jsonl.damaged-run-2")
    assert (tmp_path / "journal.jsonl.damaged-run-2").is_dir() and not path.exists()


def test_a_last_line_cut_short_by_a_crash_is_skipped_and_the_next_entry_starts_its_own_line(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(lines(START, IMAGE) + json.dumps(IMAGE).encode()[:40])
    journal = Journal(path, "run-2")
    assert journal.warnings == [] and journal.series == "run-1"  # the run did not end: its series goes on
    assert journal.trusted() == {IMAGE["destination"]: IMAGE}
    journal.begin()
    reread = Journal(path, "run-3")
    assert reread.warnings == [] and reread.series == "run-1"  # the new run-start was not glued to the torn line
