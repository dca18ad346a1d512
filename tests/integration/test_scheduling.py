"""Layer-aware copies with real skopeo: shared blobs cross the link once, the progress total is what the
destination lacks, and a rerun of a finished mirror asks the destination once per image."""

import re

from skomirror.progress import format_bytes
from testkit.images import make_layer, simple_image
from testkit.wanproxy import WanProxy
from tests.integration.conftest import results, skomirror, skopeo_digest, write_isc

BASES = [[make_layer("sched-base-a", 600_000)], [make_layer("sched-base-b", 400_000)]]


def unique_bytes(images) -> int:
    return sum(len(blob.data) for blob in {b.digest: b for image in images for b in image.blobs}.values())


def test_shared_base_layers_cross_the_link_once(tmp_path, source, destination):
    """12 images on 2 bases, in one repository and in six others; 8 copies at a time through a slow link."""
    pushed = {}
    for i in range(12):
        repository, tag = ("release/components", f"c{i}") if i < 6 else (f"operators/op{i}", "v1")
        pushed[(repository, tag)] = simple_image(f"sched-{i}", (30_000,), base=BASES[i % 2])
        source.push(repository, tag, pushed[(repository, tag)])
    with WanProxy(source.port, latency=0.005, connection_rate=3_000_000) as link:
        isc = write_isc(tmp_path / "isc.yaml", [f"{link.host}/{repo}:{tag}" for repo, tag in pushed])
        result = skomirror(str(isc), f"docker://{destination.host}/mirror", "--parallel-images", "8",
                           "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        pulled = link.counters.bytes_down
    for (repository, tag), image in pushed.items():
        assert skopeo_digest(f"{destination.host}/mirror/{repository}:{tag}") == image.digest
    # manifests and HTTP headers add a few kB; one base fetched twice would add 400 kB or more
    assert unique_bytes(pushed.values()) <= pulled < unique_bytes(pushed.values()) + 200_000, pulled


def final_progress(stderr: str) -> str:
    """The last plain status line of the copies (after its time stamp)."""
    return [line for line in stderr.splitlines() if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d mirroring: ", line)][-1]


def test_progress_counts_only_what_the_destination_lacks_and_a_rerun_asks_once_per_image(tmp_path, source,
                                                                                         destination):
    earlier = {f"c{i}": simple_image(f"earlier-{i}", (40_000,), base=BASES[0]) for i in range(2)}
    later = {f"c{i}": simple_image(f"later-{i}", (50_000 + i,), base=BASES[0]) for i in range(2, 5)}
    for tag, image in {**earlier, **later}.items():
        source.push("release/components", tag, image)
    target = f"docker://{destination.host}/mirror"
    first = skomirror(str(write_isc(tmp_path / "earlier.yaml", [f"{source.host}/release/components:{tag}"
                                                                 for tag in earlier])),
                      target, "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    both = write_isc(tmp_path / "both.yaml", [f"{source.host}/release/components:{tag}" for tag in {**earlier, **later}])
    second = skomirror(str(both), target, "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    # the base is in the repository already: what is left is each new image's own layer, config and manifest
    missing = sum(len(image.config.data) + len(image.manifest.data) + sum(len(l.blob.data) for l in image.layers[1:])
                  for image in later.values())
    assert f"{format_bytes(missing)} of {format_bytes(missing)}" in final_progress(second.stderr), second.stderr
    assert sorted(i["status"] for i in results(tmp_path / "ws")["images"]) == ["copied"] * 3 + ["skipped"] * 2

    log = destination.log_path.read_text()
    rerun = skomirror(str(both), target, "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    requests = re.findall(r'"(GET|HEAD|PUT|POST|PATCH) /v2/(\S*) HTTP', destination.log_path.read_text()[len(log):])
    manifest_checks = [path for method, path in requests if "/manifests/" in path and method in ("GET", "HEAD")]
    assert len(manifest_checks) == len(earlier) + len(later), requests
    listed = [path for method, path in requests if method == "GET" and "/tags/list?" in path]
    assert len(listed) <= 1, requests  # the survey's one list of a repository five images go to
    assert all("/manifests/" in path or path == "" or path in listed for _, path in requests), \
        requests  # no blob, no write
