"""Hostile input in real runs: a backtracking blockedImages pattern, a damaged journal."""

import time

import pytest

from skomirror.journal import read_entries
from testkit.images import simple_image
from tests.integration.conftest import results, skomirror, skopeo_digest, statuses, write_isc


def test_a_backtracking_blocked_images_pattern_is_applied_in_linear_time(tmp_path, source, destination):
    """`^(.*)*-debug$` never matches a tagged name and so is the slowest case for Python's re: minutes on these
    40-odd characters. Here the run is over in seconds (the timeout is the guard)."""
    kept = source.push("team/abcdefghijklmnopqrstuvwxy", "1", simple_image("kept"))
    source.push("team/app-debug", "1", simple_image("debug"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/team/abcdefghijklmnopqrstuvwxy:1",
                                            f"{source.host}/team/app-debug:1"],
                    blocked=[r"^(.*)*-debug$", r"^(.*)*-debug:1$"])
    started = time.monotonic()
    result = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 image excluded by blockedImages" in result.stderr
    assert skopeo_digest(f"{destination.host}/team/abcdefghijklmnopqrstuvwxy:1") == kept
    assert skopeo_digest(f"{destination.host}/team/app-debug:1") is None
    print(f"run took {time.monotonic() - started:.1f}s")


DAMAGE = {
    "random bytes": lambda text: bytes(range(256)) * 4,
    "wrong JSON types": lambda text: text.replace(b'"status": "copied"', b'"status": 7', 1),
    "missing keys": lambda text: b'{"event": "image", "run": "x"}\n' + text,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_journal_is_set_aside_and_the_run_trusts_the_destination(tmp_path, source, destination, damage):
    digests = {f"j/app{i}": source.push(f"j/app{i}", "1", simple_image(f"journal{i}")) for i in range(2)}
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/{repo}:1" for repo in digests])
    workspace = tmp_path / "skomirror-workspace"
    first = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    journal = workspace / "journal.jsonl"
    damaged = DAMAGE[damage](journal.read_bytes())
    journal.write_bytes(damaged)

    rerun = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr + rerun.stdout
    warnings = [line for line in rerun.stderr.splitlines()
                if line.startswith("skomirror: warning:") and "damaged (" in line]
    assert len(warnings) == 1 and f"{journal}: damaged (" in warnings[0], rerun.stderr
    assert "this run checks every image at the destination instead of trusting the journal" in warnings[0]
    (aside,) = workspace.glob("journal.jsonl.damaged-*")
    assert aside.read_bytes() == damaged  # kept as it was, for whoever wants to look
    assert warnings[0].split("warning: ", 1)[-1] in results(workspace)["run"]["warnings"]
    assert set(statuses(workspace).values()) == {"skipped"}  # the destination had them, checked against the source
    for image in results(workspace)["images"]:
        assert "inspect source" in open(image["log"]).read()
    entries, torn = read_entries(journal.read_text())  # a fresh journal, whole
    assert not torn and entries[0]["event"] == "run-start" and entries[-1] == {**entries[-1], "event": "run-end",
                                                                               "complete": True}
    for repo, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/{repo}:1") == digest
