"""Registry to registry: a real image set, a rerun, a missing image."""

import re
from pathlib import Path

from skomirror.skopeo.command import Skopeo
from testkit.images import make_index, make_layer, simple_image
from tests.integration.conftest import results, skomirror, skopeo_digest, statuses, write_isc

DEST_NS = "mirror/ocp"


def seed_image_set(source):
    """12 images: shared base layers, three tags in one repository, a multi-arch index, digest references."""
    base_a = [make_layer("base-a", 40_000), make_layer("base-a-2", 10_000)]
    base_b = [make_layer("base-b", 30_000)]
    entries, expected = [], {}

    def add(repo, tag, image, entry=None, destination=None):
        digest = source.push(repo, tag, image)
        entries.append(entry or f"{source.host}/{repo}:{tag}")
        expected[destination or f"{repo}:{tag}"] = digest
        return digest

    for i in range(4):
        add(f"apps/service-{i}", "1.0", simple_image(f"service-{i}", (8_000, 3_000), base=base_a))
    for i in range(3):
        add("platform/component", f"v{i}", simple_image(f"component-{i}", (5_000,), base=base_b))
    add("multi/tool", "latest", make_index([simple_image("tool", (4_000,), base=base_b, architecture=arch)
                                            for arch in ("amd64", "arm64", "ppc64le")]))
    pinned = source.push("pinned/app", "ignored", simple_image("pinned", (6_000, 2_000), base=base_a))
    entries.append(f"{source.host}/pinned/app@{pinned}")
    expected[f"pinned/app:sha256-{pinned.split(':')[1]}"] = pinned
    both = source.push("both/app", "2.0", simple_image("both", (3_000,)))
    entries.append(f"{source.host}/both/app:2.0@{both}")
    expected["both/app:2.0"] = both
    custom = source.push("renamed/app", "orig", simple_image("custom", (2_000,)))
    entries.append({"name": f"{source.host}/renamed/app:orig", "targetRepo": "custom/place", "targetTag": "v9"})
    expected["custom/place:v9"] = custom
    add("plain/single", "x", simple_image("single", (1_000, 1_000, 1_000)))
    return entries, expected


def test_mirrors_an_image_set_then_a_rerun_copies_nothing(tmp_path, source, destination):
    entries, expected = seed_image_set(source)
    assert len(expected) >= 10
    isc = write_isc(tmp_path / "isc.yaml", entries)

    first = skomirror(str(isc), f"docker://{destination.host}/{DEST_NS}", "--parallel-images", "4", cwd=tmp_path)
    assert first.returncode == 0, first.stderr + first.stdout
    for path, digest in expected.items():
        assert skopeo_digest(f"{destination.host}/{DEST_NS}/{path}") == digest, path
    workspace = tmp_path / "skomirror-workspace"
    assert set(statuses(workspace).values()) == {"copied"}
    assert all(image["digest"] == expected[image["destination"].split(f"{DEST_NS}/", 1)[1]]
               for image in results(workspace)["images"])
    mapping = (workspace / "mapping.txt").read_text().splitlines()
    assert len(mapping) == len(expected)
    assert f"docker://{source.host}/both/app@{expected['both/app:2.0']}=" \
           f"docker://{destination.host}/{DEST_NS}/both/app:2.0" in mapping
    logs = list((workspace / "logs").rglob("*.log"))
    assert len(logs) == len(expected) and all("copy attempt 1" in log.read_text() for log in logs)
    assert "Copying blob" not in first.stdout + first.stderr  # skopeo's own output stays in the logs

    second = skomirror(str(isc), f"docker://{destination.host}/{DEST_NS}", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert set(statuses(workspace).values()) == {"skipped"}
    assert "nothing to copy: every image is already at the destination" in second.stderr
    second_logs = [Path(image["log"]) for image in results(workspace)["images"]]
    assert not any("copy attempt" in (tmp_path / log).read_text() for log in second_logs)


def test_a_missing_source_image_fails_alone_with_exit_code_8(tmp_path, source, destination):
    present = [source.push(f"ok/app{i}", "1", simple_image(f"ok{i}")) for i in range(3)]
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/ok/app0:1", f"{source.host}/gone/app:1",
                                            f"{source.host}/ok/app1:1", f"{source.host}/ok/app2:1"])
    result = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path)
    assert result.returncode == 8, result.stderr
    for i, digest in enumerate(present):
        assert skopeo_digest(f"{destination.host}/ok/app{i}:1") == digest
    workspace = tmp_path / "skomirror-workspace"
    assert statuses(workspace)[f"docker://{destination.host}/gone/app:1"] == "failed"
    errors = (workspace / "mirroring_errors.txt").read_text().splitlines()
    host = re.escape(source.host)  # skopeo 1.9 repeats the registry's error code after its message, 1.18 does not
    assert len(errors) == 1 and re.fullmatch(rf"error mirroring image {host}/gone/app:1 error: image not found: "
                                             rf"reading manifest 1 in {host}/gone/app: manifest unknown"
                                             rf"(: manifest unknown)?", errors[0]), errors
    assert f"{source.host}/gone/app:1 -> {destination.host}/gone/app:1: image not found" in result.stderr


def test_dry_run_writes_mapping_and_missing_and_copies_nothing(tmp_path, source, destination):
    source.push("a/one", "1", simple_image("one"))
    source.push("a/two", "1", simple_image("two"))
    destination.push("a/one", "1", simple_image("one"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/a/one:1", f"{source.host}/a/two:1"])
    result = skomirror(str(isc), f"docker://{destination.host}", "--dry-run", "--parallel-layers", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    layer_warnings = [line for line in result.stderr.splitlines() if "--parallel-layers 3 is ignored" in line]
    expected = 0 if Skopeo.locate().capabilities.has("image-parallel-copies") else 1
    assert len(layer_warnings) == expected, result.stderr
    workspace = tmp_path / "skomirror-workspace"
    assert (workspace / "missing.txt").read_text() == \
        f"docker://{source.host}/a/two:1=docker://{destination.host}/a/two:1\n"
    assert len((workspace / "mapping.txt").read_text().splitlines()) == 2
    assert "2 images planned, 1 to copy" in result.stderr
    assert skopeo_digest(f"{destination.host}/a/two:1") is None
    assert not (workspace / "results.json").exists()


def test_blocked_images_are_not_copied(tmp_path, source, destination):
    source.push("keep/app", "1", simple_image("keep"))
    source.push("block/app", "1", simple_image("block"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/keep/app:1", f"{source.host}/block/app:1"],
                    blocked=["block/"])
    result = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert skopeo_digest(f"{destination.host}/block/app:1") is None
    assert skopeo_digest(f"{destination.host}/keep/app:1") is not None
    assert "1 image excluded by blockedImages" in result.stderr
