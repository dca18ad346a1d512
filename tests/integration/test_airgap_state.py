"""What the air gap keeps and reads back: history with the destination, hostile shipments, damaged records."""

import io
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Dict

import pytest

from skomirror.airgap.unpacking import sha256_of
from tests.integration.conftest import results, skomirror, skopeo_digest
from tests.integration.test_airgap import carry, digests_of, isc_for, seed, shipment


def m2d(isc: Path, disk: Path, cwd: Path, *extra: str):
    cwd.mkdir(parents=True, exist_ok=True)
    run = skomirror(str(isc), f"file://{disk}", *extra, cwd=cwd)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def test_mirror_to_disk_from_another_working_directory_ships_only_the_new_blobs(tmp_path, source):
    first, more = ["hist-a", "hist-b", "multi-h"], ["hist-c"]
    images = seed(source, first + more)
    disk = tmp_path / "disk"
    m2d(isc_for(tmp_path, source, first), disk, tmp_path / "monday")  # ./skomirror-workspace in each directory
    m2d(isc_for(tmp_path, source, first + more, "grown.yaml"), disk, tmp_path / "tuesday")
    assert all((tmp_path / day / "skomirror-workspace").is_dir() for day in ("monday", "tuesday"))
    old, new = digests_of(images[n] for n in first), digests_of(images[n] for n in more)
    assert set(shipment(disk, 1)["blobs"]) == old
    assert set(shipment(disk, 2)["blobs"]) == new - old and shipment(disk, 2)["basedOn"] == [1]
    assert sorted(p.name for p in (disk / "history").iterdir()) == ["mirror_shipment_0001.json",
                                                                   "mirror_shipment_0002.json"]
    nothing = m2d(isc_for(tmp_path, source, first + more, "grown.yaml"), disk, tmp_path / "wednesday")
    assert "nothing new to ship" in nothing.stderr


def test_a_history_an_earlier_skomirror_kept_in_the_workspace_is_still_honoured(tmp_path, source):
    first, more = ["old-a", "old-b"], ["old-c"]
    images = seed(source, first + more)
    disk, cwd = tmp_path / "disk", tmp_path / "bastion"
    m2d(isc_for(tmp_path, source, first), disk, cwd)
    (disk / "history").rename(cwd / "skomirror-workspace" / "history")  # where versions before this one kept it
    for path in disk.glob("mirror_*"):  # carried away and deleted, as users do
        path.unlink()
    second = m2d(isc_for(tmp_path, source, first + more, "grown.yaml"), disk, cwd)
    assert "read from" in second.stderr and "skomirror-workspace/history" in second.stderr
    new = digests_of(images[n] for n in more) - digests_of(images[n] for n in first)
    assert set(shipment(disk, 2)["blobs"]) == new and shipment(disk, 2)["basedOn"] == [1]
    assert sorted(p.name for p in (disk / "history").iterdir()) == ["mirror_shipment_0001.json",
                                                                   "mirror_shipment_0002.json"]


def _repack(usb: Path, manifest: dict, extra: Dict[str, bytes], count: bool = False, size: bool = False) -> None:
    """Add members to the first part and make the manifest agree with its new size and sha256."""
    part = usb / manifest["parts"][0]["name"]
    with tarfile.open(part, "a") as tar:
        for name, data in extra.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    entry = manifest["parts"][0]
    entry.update(size=part.stat().st_size, sha256=sha256_of(part))
    if count:
        entry.update(files=entry["files"] + len(extra))
    if size:
        entry.update(fileBytes=entry["fileBytes"] + sum(map(len, extra.values())))


def _hostile(case: str, usb: Path, outside: Path) -> str:
    """Make the shipment in `usb` hostile in one way; returns what the one error line must say."""
    path = usb / "mirror_shipment_0001.json"
    manifest = json.loads(path.read_text())
    part = manifest["parts"][0]
    if case == "traversal part name":
        shutil.copy(usb / part["name"], usb.parents[2] / "x.tar")  # where ../../../x.tar leads from `usb`
        part["name"] = "../../../x.tar"
        said = "key 'parts[0].name'"
    elif case == "absolute part name":
        shutil.copy(usb / part["name"], outside / "x.tar")
        part["name"] = str(outside / "x.tar")
        said = "key 'parts[0].name'"
    elif case == "ISC path traversal":
        manifest["isc"] = "../../../../etc/passwd"
        said = "key 'isc'"
    elif case == "symlinked part":
        shutil.move(str(usb / part["name"]), outside / part["name"])
        (usb / part["name"]).symlink_to(outside / part["name"])
        said = "a symlink is refused"
    elif case == "more members than declared":
        _repack(usb, manifest, {f"signatures/sha256-{'e' * 64}-{i}": b"s" for i in range(30)})
        said = "file(s) its manifest declares"
    elif case == "a member bigger than declared":
        _repack(usb, manifest, {f"signatures/sha256-{'e' * 64}-1": b"x" * 300_000}, count=True)
        said = "bytes of files, its manifest declares"
    elif case == "forged received record":
        forged = dict(manifest, id=2)
        _repack(usb, manifest, {"received/mirror_shipment_0002.json": json.dumps(forged).encode()}, True, True)
        said = "refusing member 'received/mirror_shipment_0002.json'"
    elif case == "wrong JSON type":
        manifest["id"] = "1"
        said = "key 'id'"
    elif case == "missing key":
        del manifest["parts"]
        said = "key 'parts': missing"
    else:
        path.write_bytes(os.urandom(300))
        return "not JSON"
    path.write_text(json.dumps(manifest))
    return said


def _tree(root: Path, *leave_out: Path) -> Dict[str, float]:
    return {str(p): p.lstat().st_mtime for p in root.rglob("*")
            if not any(out in p.parents or p == out for out in leave_out)}


HOSTILE_SHIPMENTS = ["traversal part name", "absolute part name", "ISC path traversal", "symlinked part",
                     "more members than declared", "a member bigger than declared", "forged received record",
                     "wrong JSON type", "missing key", "random bytes"]


def test_hostile_shipments_are_refused_in_one_line_and_the_workspace_still_works(tmp_path, source, registries):
    seed(source, ["h-one"])
    disk = tmp_path / "disk"
    m2d(isc_for(tmp_path, source, ["h-one"]), disk, tmp_path)
    seed(source, ["h-two"])
    m2d(isc_for(tmp_path, source, ["h-one", "h-two"], "grown.yaml"), disk, tmp_path)
    registry = registries("disconnected")
    workspace = tmp_path / "ws-disconnected"
    for number, case in enumerate(HOSTILE_SHIPMENTS):
        usb, outside = tmp_path / f"usb{number}" / "a" / "b", tmp_path / f"outside{number}"
        outside.mkdir(parents=True)
        carry(disk, usb, shipments={1})
        said = _hostile(case, usb, outside)
        before = _tree(tmp_path, workspace, registry.root)
        run = skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(workspace), cwd=tmp_path)
        errors = [line for line in run.stderr.splitlines() if "error" in line]
        assert run.returncode == 1 and "Traceback" not in run.stderr, (case, run.stderr)
        assert len(errors) == 1 and said in errors[0] and len(errors[0]) < 600, (case, run.stderr)
        assert registry.catalog() == [], case
        assert _tree(tmp_path, workspace, registry.root) == before, case  # nothing outside written or touched
        assert not (workspace / "received").exists() and not (workspace / "store" / "received").exists(), case

    # the real shipments, one after the other, into the workspace every hostile one was tried on
    for number in (1, 2):
        usb = carry(disk, tmp_path / f"real{number}", shipments={number})
        run = skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(workspace), cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"received shipment {number}" in run.stderr
    assert skopeo_digest(f"{registry.host}/apps/h-two:1") is not None
    assert sorted(p.name for p in (workspace / "received").iterdir()) == ["mirror_shipment_0001.json",
                                                                         "mirror_shipment_0002.json"]


DAMAGE = {"random bytes": lambda: os.urandom(200), "wrong JSON types": lambda: b'{"format": 1, "id": []}',
          "missing keys": lambda: b'{"format": "skomirror.shipment/v1", "id": 1}', "a list": lambda: b"[]"}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_records_are_set_aside_with_one_warning_and_more_is_done_never_less(tmp_path, source, registries,
                                                                                    damage):
    names = ["d-one", "d-two"]
    images = seed(source, names)
    disk = tmp_path / "disk"
    m2d(isc_for(tmp_path, source, names[:1]), disk, tmp_path)
    (disk / "history" / "mirror_shipment_0001.json").write_bytes(DAMAGE[damage]())
    second = m2d(isc_for(tmp_path, source, names, "grown.yaml"), disk, tmp_path)
    warned = [line for line in second.stderr.splitlines() if "history/mirror_shipment_0001.json" in line]
    assert len(warned) == 1 and "shipped again" in warned[0] and "Traceback" not in second.stderr
    assert set(shipment(disk, 2)["blobs"]) == digests_of(images.values())  # what shipment 1 carried goes again
    assert (disk / "history" / "mirror_shipment_0001.json.damaged").exists()

    registry, workspace = registries("disconnected"), tmp_path / "ws-disconnected"
    usb = carry(disk, tmp_path / "usb", shipments={2})
    assert skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(workspace),
                     cwd=tmp_path).returncode == 0
    (workspace / "received" / "mirror_shipment_0002.json").write_bytes(DAMAGE[damage]())
    again = skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(workspace), cwd=tmp_path)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    warned = [line for line in again.stderr.splitlines() if "received/mirror_shipment_0002.json" in line]
    assert len(warned) == 1 and "not received" in warned[0]
    assert "received shipment 2" in again.stderr  # checked and unpacked again, then recorded again
    assert {image["status"] for image in results(workspace)["images"]} == {"skipped"}
    for name, image in images.items():
        assert skopeo_digest(f"{registry.host}/apps/{name}:1") == image.digest
