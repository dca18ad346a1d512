"""Outages in the middle of a run end in success with default flags: retries last --retry-window (10 minutes).

The source sits behind the WAN emulator so that the copies take seconds, and the outage
begins once some copies have finished and while others have not.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Tuple

from testkit.faultproxy import Fault, FaultProxy, FaultSchedule
from testkit.images import simple_image
from testkit.wanproxy import WanProxy
from skomirror.workflows.options import DEFAULT_PARALLEL_IMAGES
from tests.integration.conftest import PROJECT, finished_copies, results, skopeo_digest, wait_for, write_isc


def seed(source, count: int, prefix: str) -> Dict[str, str]:
    """repository -> digest of `count` images of ~200 KB each, nothing shared."""
    return {f"{prefix}/app{i:02d}": source.push(f"{prefix}/app{i:02d}", "1",
                                                simple_image(f"{prefix}{i}", (150_000, 50_000)))
            for i in range(count)}


def run_through_outage(isc: Path, destination: str, cwd: Path, began_after: int, go_down: Callable[[], None],
                       come_back: Callable[[], None], seconds: float) -> Tuple[subprocess.CompletedProcess, int]:
    """Run the CLI with default flags; once `began_after` copies have finished, go_down(), wait `seconds`,
    come_back(). Returns the finished run and how many copies had finished when the outage began."""
    workspace = cwd / "skomirror-workspace"
    command = [sys.executable, "-m", "skomirror", "run", "--src-tls-verify=false", "--dest-tls-verify=false",
               str(isc), destination]
    process = subprocess.Popen(command, cwd=cwd, env=dict(os.environ, PYTHONPATH=str(PROJECT)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: workspace.exists() and finished_copies(workspace) >= began_after, 120, "the first copies")
        go_down()
        done_at_outage = finished_copies(workspace)
        time.sleep(seconds)
        come_back()
        stdout, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), done_at_outage


def assert_survived(result, done_at_outage: int, digests: Dict[str, str], destination_host: str, cwd: Path,
                    side: str, host: str, how: str) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert 0 < done_at_outage < len(digests)  # the outage came in the middle of the run
    for repository, digest in digests.items():
        assert skopeo_digest(f"{destination_host}/{repository}:1") == digest, repository
    document = results(cwd / "skomirror-workspace")
    assert {image["status"] for image in document["images"]} == {"copied"}
    retried = [image for image in document["images"] if image["attempts"] > 1]
    assert any(f"; {side} {host} {how} since " in open(image["log"]).read() for image in retried)  # the logs say so
    # the console says who is down since when, and when it is back; results.json keeps both lines
    down = [line for line in result.stderr.splitlines() if line.startswith(f"{side} {host} {how} since ")]
    back = [line for line in result.stderr.splitlines() if line.startswith(f"{side} {host} answering again after ")]
    assert len(down) >= 1 and "; retrying until " in down[0] and len(back) == len(down), result.stderr
    assert down[0] in document["run"]["warnings"] and back[-1] in document["run"]["warnings"]


def test_a_destination_restarted_45_seconds_later_on_the_same_port_and_storage_loses_nothing(tmp_path, source,
                                                                                              destination):
    digests = seed(source, 30, "restart")
    with WanProxy(source.port, latency=0.005, connection_rate=1e6, total_rate=1e6) as slow_source:
        isc = write_isc(tmp_path / "isc.yaml", [f"{slow_source.host}/{repository}:1" for repository in digests])
        port, storage = destination.port, destination.storage
        result, done_at_outage = run_through_outage(isc, f"docker://{destination.host}", tmp_path, 3,
                                                    destination.stop, destination.start, 45)
    assert (destination.port, destination.storage) == (port, storage)
    assert_survived(result, done_at_outage, digests, destination.host, tmp_path, "destination", destination.host,
                    "not answering")


def test_a_source_answering_503_to_everything_for_90_seconds_loses_nothing(tmp_path, source, destination):
    digests = seed(source, 2 * DEFAULT_PARALLEL_IMAGES, "unavailable")  # copies still to start when it goes down
    schedule = FaultSchedule({})
    with WanProxy(source.port, latency=0.005, connection_rate=1e6, total_rate=1e6) as slow_source, \
            FaultProxy(slow_source.port, schedule) as proxy:
        isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/{repository}:1" for repository in digests])
        result, done_at_outage = run_through_outage(isc, f"docker://{destination.host}", tmp_path, 2,
                                                    lambda: schedule.outage(Fault("status", 503)),
                                                    lambda: schedule.outage(None), 90)
    assert schedule.injected["503"] > 0
    assert_survived(result, done_at_outage, digests, destination.host, tmp_path, "source", proxy.host,
                    "answering errors")
