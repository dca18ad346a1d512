"""A source tag that moves between the survey and the copy: what landed is what is recorded, everywhere."""

import json
import shutil
from pathlib import Path

import pytest

from testkit.images import simple_image
from tests.integration.conftest import results, skomirror, skopeo_digest, write_isc
from tests.integration.test_airgap import carry, digests_of, shipment

HOOK = """#!/bin/sh
# The first copy of apps/moving:1 moves the tag first (as a push upstream would, after the survey).
case " $* " in
  *" copy "*"/apps/moving:1 "*)
    if mkdir "{marker}" 2>/dev/null; then
      {skopeo} copy --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false \\
        docker://{source}/staging/moving:2 docker://{source}/apps/moving:1 >/dev/null 2>&1 || exit 99
    fi;;
esac
exec {skopeo} "$@"
"""


@pytest.fixture
def moving(tmp_path, source):
    """(env that puts the hook first on PATH, the ISC, the image the survey sees, the image the copy takes)."""
    before, after = simple_image("moving-before", (30_000,)), simple_image("moving-after", (35_000, 5_000))
    source.push("apps/moving", "1", before)
    source.push("staging/moving", "2", after)
    source.push("apps/steady", "1", simple_image("steady"))
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    hook = hook_dir / "skopeo"
    hook.write_text(HOOK.format(marker=tmp_path / "moved", skopeo=shutil.which("skopeo"), source=source.host))
    hook.chmod(0o755)
    env = {"PATH": f"{hook_dir}:{shutil.which('skopeo').rsplit('/', 1)[0]}:/usr/bin:/bin"}
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/moving:1", f"{source.host}/apps/steady:1"])
    return env, isc, before, after


def journal_digests(workspace: Path) -> dict:
    entries = [json.loads(line) for line in (workspace / "journal.jsonl").read_text().splitlines()]
    return {e["destination"]: e["digest"] for e in entries if e.get("event") == "image"}


def moving_result(workspace: Path) -> dict:
    return next(image for image in results(workspace)["images"] if image["source"].endswith("/apps/moving:1"))


def size_of(image) -> int:
    return sum(blob.size for blob in image.blobs) + image.manifest.size


def test_mirror_to_mirror_records_the_digest_it_copied(tmp_path, moving, destination):
    env, isc, before, after = moving
    run = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "moved").is_dir()  # the hook did move the tag after the survey
    workspace = tmp_path / "skomirror-workspace"
    image = moving_result(workspace)
    assert image["status"] == "copied" and image["digest"] == after.digest != before.digest
    assert image["size"] == size_of(after) != size_of(before)
    assert journal_digests(workspace)[image["destination"]] == after.digest
    assert skopeo_digest(f"{destination.host}/apps/moving:1") == after.digest
    assert "the source moved after the survey" in Path(image["log"]).read_text()
    itms = (workspace / "cluster-resources" / "itms-oc-mirror.yaml").read_text()
    assert "/apps\n" in itms or "/apps" in itms
    again = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path, env=env)
    assert again.returncode == 0 and moving_result(workspace)["status"] == "skipped"


def test_mirror_to_disk_ships_what_it_copied_and_disk_to_mirror_pushes_it(tmp_path, moving, registries):
    env, isc, before, after = moving
    disk, workspace = tmp_path / "disk", tmp_path / "skomirror-workspace"
    run = skomirror(str(isc), f"file://{disk}", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr  # before: ".../blobs/sha256/<old>: No such file", exit 1
    assert (tmp_path / "moved").is_dir()
    image = moving_result(workspace)
    assert image["digest"] == after.digest and journal_digests(workspace)[image["destination"]] == after.digest
    assert image["size"] == size_of(after)
    shipped = shipment(disk, 1)
    assert {i["name"]: i["digest"] for i in shipped["images"]}["apps/moving:1"] == after.digest
    assert digests_of([after]) <= set(shipped["blobs"])
    assert not {before.digest, before.config.digest} & set(shipped["blobs"])  # the survey's image was never copied

    registry = registries("disconnected")
    usb = carry(disk, tmp_path / "usb")
    d2m = skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(tmp_path / "ws-d"),
                    cwd=tmp_path)
    assert d2m.returncode == 0, d2m.stdout + d2m.stderr
    assert skopeo_digest(f"{registry.host}/apps/moving:1") == after.digest
