"""Ctrl-C and SIGTERM in the middle of a run: no skopeo left behind, results kept, rerun resumes."""

import signal

import pytest

from testkit.images import simple_image
from testkit.wanproxy import WanProxy
from tests.integration.conftest import (interrupted_skomirror, results, skomirror, skopeo_digest,
                                       skopeo_processes_mentioning, write_isc)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_every_child_keeps_results_and_rerun_resumes(tmp_path, source, destination, signum):
    digests = {f"slow/app{i}": source.push(f"slow/app{i}", "1", simple_image(f"slow{i}", (700_000, 300_000)))
               for i in range(6)}
    with WanProxy(source.port, latency=0.01, connection_rate=1.5e6, total_rate=1.5e6) as proxy:
        isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/{repo}:1" for repo in digests])
        workspace = tmp_path / "skomirror-workspace"
        returncode, _, stderr = interrupted_skomirror("--parallel-images", "2", str(isc),
                                                     f"docker://{destination.host}/mirror", cwd=tmp_path,
                                                     workspace=workspace, signum=signum)
        assert returncode == 130, stderr
        assert skopeo_processes_mentioning(str(tmp_path)) == []
        assert "interrupted" in stderr

        first = {image["destination"]: image["status"] for image in results(workspace)["images"]}
        assert set(first.values()) <= {"copied", "interrupted", "pending"}
        assert "copied" not in first.values() or list(first.values()).count("copied") < len(digests)
        copied_before = [dest for dest, status in first.items() if status == "copied"]

        rerun = skomirror(str(isc), f"docker://{destination.host}/mirror", cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stderr
        second = {image["destination"]: image["status"] for image in results(workspace)["images"]}
        assert [dest for dest, status in second.items() if status == "skipped"] == copied_before
        assert all(status in ("copied", "skipped") for status in second.values())
    for repo, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/mirror/{repo}:1") == digest
