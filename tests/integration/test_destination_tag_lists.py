"""A first run lists a destination repository once instead of a HEAD per image; a rerun still finds every image."""

import re

from testkit.images import simple_image
from tests.integration.conftest import results, skomirror, skopeo_digest, statuses, write_isc


def destination_requests(destination, since: int):
    return re.findall(r'"(GET|HEAD) /v2/(\S*) HTTP', destination.log_path.read_text()[since:])


def test_a_repository_is_listed_once_on_a_first_run_and_a_rerun_skips_what_it_copied(tmp_path, source, destination):
    images = {tag: simple_image(f"listed-{tag}", (2_000,)) for tag in map(str, range(1, 7))}
    for tag, image in images.items():
        source.push("apps/listed", tag, image)
    destination.push("mirror/apps/listed", "6", images["6"])  # mirrored before this run
    isc_path = str(write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/listed:{tag}" for tag in images]))
    arguments = (isc_path, f"docker://{destination.host}/mirror", "--workspace", str(tmp_path / "ws"))

    since = len(destination.log_path.read_text())
    first = skomirror(*arguments, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    requests = destination_requests(destination, since)
    lists = [path for _, path in requests if "/tags/list?n=1000" in path]  # (the blob probe asks n=1 of its own)
    assert lists == ["mirror/apps/listed/tags/list?n=1000"]
    surveyed = [path for method, path in requests if method == "HEAD" and "/manifests/" in path]
    assert "mirror/apps/listed/manifests/6" in surveyed  # listed, so asked for its digest
    assert len(surveyed) <= 2, surveyed  # the first image, surveyed alone before the lists; then only the listed
    found = {destination.rsplit(":", 1)[1]: status for destination, status in statuses(tmp_path / "ws").items()}
    assert found == {"1": "copied", "2": "copied", "3": "copied", "4": "copied", "5": "copied", "6": "skipped"}
    for tag, image in images.items():
        assert skopeo_digest(f"{destination.host}/mirror/apps/listed:{tag}") == image.digest

    again = skomirror(*arguments, cwd=tmp_path)  # the copies are in the list now: each is asked for, each skipped
    assert again.returncode == 0, again.stdout + again.stderr
    assert {image["status"] for image in results(tmp_path / "ws")["images"]} == {"skipped"}
