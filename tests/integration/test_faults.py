"""A mirror through the fault proxy: resets, 5xx, 429 with Retry-After and a stall, all survived.

The schedule (blob requests are numbered in the order the source registry sees them):
  blob 2: connection reset after 30% of the body      blob 5: 500     blob 9: 502
  blob 13, 14: 503                                     blobs 20-60: 429 with Retry-After: 1
  blob 70: stalled after 30% of the body (detected by --stall-timeout, killed, retried)
"""

import pytest

from testkit.faultproxy import Fault, FaultProxy, FaultSchedule
from testkit.images import simple_image
from tests.integration.conftest import results, skomirror, skopeo_digest, write_isc

SCHEDULE = {"blob": [([2], Fault("reset")), ([5], Fault("status", 500)), ([9], Fault("status", 502)),
                     ([13, 14], Fault("status", 503)), (range(20, 61), Fault("status", 429, retry_after=1)),
                     ([70], Fault("stall"))]}
EXPECTED_FAULTS = {"reset": 1, "500": 1, "502": 1, "503": 2, "429": 41, "stall": 1}
IMAGES = 24


@pytest.fixture
def faulty_source(source):
    digests = {f"faulty/app{i:02d}": source.push(f"faulty/app{i:02d}", "1", simple_image(f"faulty{i}", (60_000, 20_000)))
               for i in range(IMAGES)}
    schedule = FaultSchedule(SCHEDULE)
    with FaultProxy(source.port, schedule) as proxy:
        yield proxy, schedule, digests


def test_a_mirror_through_faults_completes_with_every_digest_right(tmp_path, faulty_source, destination):
    proxy, schedule, digests = faulty_source
    isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/{repo}:1" for repo in digests])
    result = skomirror(str(isc), f"docker://{destination.host}", "--parallel-images", "8", "--retry-times", "8",
                       "--retry-delay", "1", "--stall-timeout", "3", cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for repo, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/{repo}:1") == digest, repo

    assert dict(schedule.injected) == EXPECTED_FAULTS  # every scheduled fault was served...
    assert not schedule.skipped, schedule.skipped  # (none went out as a clean answer instead)
    document = results(tmp_path / "skomirror-workspace")
    images = document["images"]
    assert all(image["status"] == "copied" for image in images)  # ...and survived
    retried = [image for image in images if image["attempts"] > 1]
    assert len(retried) >= 4 and sum(image["attempts"] for image in images) > IMAGES
    logs = "".join(open(image["log"]).read() for image in retried)
    assert "stalled: no byte progress for 3s" in logs
    assert "registry overloaded (503)" in logs or "rate limited (429)" in logs

    lowered = [event for event in document["run"]["rateLimits"] if event["registry"] == proxy.host]
    assert lowered and min(event["limit"] for event in lowered) < 8  # concurrency went down for the source
    assert f"{proxy.host} asked to slow down (429/503)" in result.stderr
