"""The journal: what it records, when a rerun trusts it, and --rerun-failed."""

import json
import signal

from skomirror.imageref import ImageRef
from testkit.images import simple_image
from testkit.wanproxy import WanProxy
from tests.integration.conftest import interrupted_skomirror, results, skomirror, skopeo_digest, write_isc


def journal(workspace):
    return [json.loads(line) for line in (workspace / "journal.jsonl").read_text().splitlines()]


def test_a_rerun_after_an_interrupt_trusts_the_journal_only_where_the_destination_agrees(tmp_path, source,
                                                                                           destination):
    digests = {f"j/app{i}": source.push(f"j/app{i}", "1", simple_image(f"journal{i}", (400_000, 100_000)))
               for i in range(5)}
    workspace = tmp_path / "skomirror-workspace"
    with WanProxy(source.port, latency=0.01, connection_rate=1.5e6, total_rate=1.5e6) as proxy:
        isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/{repo}:1" for repo in digests])
        code, _, _ = interrupted_skomirror("--parallel-images", "1", str(isc), f"docker://{destination.host}",
                                           cwd=tmp_path, workspace=workspace, signum=signal.SIGTERM, after_copies=2)
        assert code == 130
        written = journal(workspace)
        entries = [e for e in written if e["event"] == "image"]
        copied = [e["destination"] for e in entries if e["status"] == "copied"]
        assert len(copied) >= 2 and all(e["digest"] for e in entries if e["status"] == "copied")
        assert written[-1] == {**written[-1], "event": "run-end", "complete": False}

        # someone overwrites one finished image at the destination: the journal must not be believed for it
        tampered = ImageRef.parse(copied[0])
        assert (tampered.registry, tampered.tag) == (destination.host, "1")
        destination.push(tampered.path, tampered.tag, simple_image("something else"))

        rerun = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stderr
        statuses = {image["destination"]: image for image in results(workspace)["images"]}

        # that run completed: the series ends, so the next run reads every tag source again
        third = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path)
        assert third.returncode == 0
        for image in results(workspace)["images"]:
            assert image["status"] == "skipped" and "inspect source" in open(image["log"]).read()
    assert statuses[copied[0]]["status"] == "copied"  # re-copied: the destination disagreed with the journal
    for trusted in copied[1:]:
        assert statuses[trusted]["status"] == "skipped"
        log = open(statuses[trusted]["log"]).read()
        assert "inspect destination" in log and "inspect source" not in log  # one destination check, no source read
    for repo, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/{repo}:1") == digest


def test_rerun_failed_copies_only_what_failed_last_time(tmp_path, source, destination):
    for i in range(3):
        source.push(f"r/app{i}", "1", simple_image(f"rerun{i}"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/r/app{i}:1" for i in range(3)] +
                    [f"{source.host}/r/late:1"])
    first = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path)
    assert first.returncode == 8
    late = source.push("r/late", "1", simple_image("late"))  # the missing image appears upstream

    again = skomirror(str(isc), f"docker://{destination.host}", "--rerun-failed", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "--rerun-failed: 1 of 4 images failed last time" in again.stderr
    images = results(tmp_path / "skomirror-workspace")["images"]
    assert [(i["destination"], i["status"]) for i in images] == [(f"docker://{destination.host}/r/late:1", "copied")]
    assert skopeo_digest(f"{destination.host}/r/late:1") == late

    nothing = skomirror(str(isc), f"docker://{destination.host}", "--rerun-failed", cwd=tmp_path)
    assert nothing.returncode == 0 and "nothing failed in the last run" in nothing.stderr
