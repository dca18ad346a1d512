"""--keep-logs: a workspace keeps the per-image logs of the last N runs, and its journal stays one series long."""

from testkit.images import simple_image
from testkit.isc import write_isc
from tests.integration.conftest import skomirror


def test_only_the_last_runs_logs_stay_and_the_journal_is_compacted(tmp_path, source, destination):
    source.push("apps/a", "1", simple_image("a", (2_000,)))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/a:1"])
    workspace = tmp_path / "ws"
    (workspace / "logs" / "mine").mkdir(parents=True)  # not a run's: never touched
    for _ in range(4):
        run = skomirror(str(isc), f"docker://{destination.host}/mirror", "--workspace", str(workspace),
                        "--keep-logs", "2", cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
    runs = sorted(entry.name for entry in (workspace / "logs").iterdir() if entry.name != "mine")
    assert len(runs) == 2 and (workspace / "logs" / "mine").is_dir()
    journal = (workspace / "journal.jsonl").read_text().splitlines()
    assert sum('"run-start"' in line for line in journal) <= 2  # compacted: not one start per run ever made
