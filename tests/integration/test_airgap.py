"""Mirror to disk, carry the archives, disk to mirror: on real skopeo and real registries."""

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Dict, List

import pytest

from skomirror.airgap.unpacking import sha256_of
from skomirror.airgap.space import FREE_SPACE_OVERRIDE
from testkit.images import Index, make_index, make_layer, simple_image
from testkit.registry import Registry
from testkit.wanproxy import WanProxy
from tests.integration.conftest import interrupted_skomirror, results, skomirror, skopeo_digest, write_isc

BASE = [make_layer("airgap-base", 60_000)]


def seed(source: Registry, names: List[str]) -> Dict[str, object]:
    """name -> the image pushed; one of them multi-arch; all on one shared base layer."""
    images = {}
    for name in names:
        if name.startswith("multi"):
            image = make_index([simple_image(name, (15_000,), BASE, arch) for arch in ("amd64", "arm64")])
        else:
            image = simple_image(name, (40_000,), BASE)
        source.push(f"apps/{name}", "1", image)
        images[name] = image
    return images


def digests_of(images) -> set:
    """Every manifest, config and layer digest of these images."""
    found = set()
    for image in images:
        found.add(image.digest)
        for single in (image.images if isinstance(image, Index) else (image,)):
            found.add(single.digest)
            found.update(blob.digest for blob in single.blobs)
    return found


def carry(disk: Path, usb: Path, shipments=None) -> Path:
    """What a user copies to removable media: the parts and manifests (of some shipments)."""
    usb.mkdir(parents=True, exist_ok=True)
    for manifest in sorted(disk.glob("mirror_shipment_*.json")):
        shipment = json.loads(manifest.read_text())
        if shipments is None or shipment["id"] in shipments:
            shutil.copy(manifest, usb)
            for part in shipment["parts"]:
                shutil.copy(disk / part["name"], usb)
    return usb


def shipment(directory: Path, number: int) -> dict:
    return json.loads((directory / f"mirror_shipment_{number:04d}.json").read_text())


def isc_for(tmp_path: Path, source: Registry, names, file_name="isc.yaml") -> Path:
    return write_isc(tmp_path / file_name, [f"{source.host}/apps/{name}:1" for name in names])


def test_round_trip_through_archives_keeps_digests_and_stores_shared_blobs_once(tmp_path, source, registries):
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "multi-tool"]
    images = seed(source, names)
    disk = tmp_path / "disk"
    m2d = skomirror(str(isc_for(tmp_path, source, names)), f"file://{disk}", "--archive-size", "100KiB",
                    "--workspace", str(tmp_path / "ws-connected"), cwd=tmp_path)
    assert m2d.returncode == 0, m2d.stdout + m2d.stderr

    parts = sorted(disk.glob("mirror_*.tar"))
    assert len(parts) >= 3
    assert all(part.stat().st_size <= 100 * 1024 for part in parts)
    stored = {path.name for path in (disk / "store" / "blobs" / "sha256").iterdir()}
    assert stored == {digest.split(":")[1] for digest in digests_of(images.values())}  # each blob once
    assert not [path for path in (disk / "store" / "layouts").rglob("*") if path.is_file()
                and path.name not in ("index.json", "oci-layout")]

    disconnected = registries("disconnected")
    usb = carry(disk, tmp_path / "usb")
    d2m = skomirror("--from", f"file://{usb}", f"docker://{disconnected.host}/ocp",
                    "--workspace", str(tmp_path / "ws-disconnected"), cwd=tmp_path)
    assert d2m.returncode == 0, d2m.stdout + d2m.stderr
    for name, image in images.items():
        assert skopeo_digest(f"{disconnected.host}/ocp/apps/{name}:1") == image.digest, name
    mapping = (tmp_path / "ws-disconnected" / "mapping.txt").read_text()
    assert f"=docker://{disconnected.host}/ocp/apps/alpha:1" in mapping

    again = skomirror("--from", f"file://{usb}", f"docker://{disconnected.host}/ocp",
                      "--workspace", str(tmp_path / "ws-disconnected"), cwd=tmp_path)
    assert again.returncode == 0
    assert {image["status"] for image in results(tmp_path / "ws-disconnected")["images"]} == {"skipped"}


def test_second_round_ships_only_new_blobs_and_shipments_apply_in_order(tmp_path, source, registries):
    first_names = ["one", "two", "multi-x"]
    more_names = ["three", "four"]
    images = seed(source, first_names + more_names)
    disk, connected = tmp_path / "disk", tmp_path / "ws-connected"
    first = skomirror(str(isc_for(tmp_path, source, first_names)), f"file://{disk}", "--workspace", str(connected),
                      cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    grown = isc_for(tmp_path, source, first_names + more_names, "isc-grown.yaml")
    second = skomirror(str(grown), f"file://{disk}", "--workspace", str(connected), cwd=tmp_path)
    assert second.returncode == 0, second.stderr

    one, two = shipment(disk, 1), shipment(disk, 2)
    old = digests_of(images[name] for name in first_names)
    new = digests_of(images[name] for name in more_names)
    assert set(one["blobs"]) == old
    assert set(two["blobs"]) == new - old  # the shared base layer is not shipped twice
    assert two["basedOn"] == [1]
    assert [part["name"] for part in two["parts"]] == ["mirror_000002.tar"]  # part numbers continue

    # the usual way: each shipment carried and applied in turn, into the same workspace and registry
    registry = registries("disconnected")
    workspace = tmp_path / "ws-disconnected"
    for number in (1, 2):
        usb = carry(disk, tmp_path / f"usb{number}", shipments={number})
        d2m = skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(workspace), cwd=tmp_path)
        assert d2m.returncode == 0, d2m.stdout + d2m.stderr
    for name, image in images.items():
        assert skopeo_digest(f"{registry.host}/apps/{name}:1") == image.digest

    # both shipments in one directory, on a fresh side: applied oldest first
    fresh = registries("fresh")
    d2m = skomirror("--from", str(carry(disk, tmp_path / "usb-both")), f"docker://{fresh.host}",
                    "--workspace", str(tmp_path / "ws-fresh"), cwd=tmp_path)
    assert d2m.returncode == 0, d2m.stdout + d2m.stderr
    assert d2m.stderr.index("received shipment 1") < d2m.stderr.index("received shipment 2")
    for name, image in images.items():
        assert skopeo_digest(f"{fresh.host}/apps/{name}:1") == image.digest

    third = skomirror(str(grown), f"file://{disk}", "--workspace", str(connected), cwd=tmp_path)
    assert third.returncode == 0 and "nothing new to ship" in third.stderr
    full = skomirror(str(grown), f"file://{disk}", "--workspace", str(connected), "--full-archive", cwd=tmp_path)
    assert full.returncode == 0
    assert set(shipment(disk, 3)["blobs"]) == old | new


def test_a_flipped_byte_is_caught_before_anything_is_pushed(tmp_path, source, registries):
    names = ["a1", "a2", "a3"]
    seed(source, names)
    disk = tmp_path / "disk"
    assert skomirror(str(isc_for(tmp_path, source, names)), f"file://{disk}", "--archive-size", "80KiB",
                     cwd=tmp_path).returncode == 0
    usb = carry(disk, tmp_path / "usb")
    victim = sorted(usb.glob("mirror_*.tar"))[1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 3] ^= 0x40
    victim.write_bytes(bytes(data))
    registry = registries("disconnected")
    workspace = tmp_path / "ws-disconnected"
    d2m = skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(workspace), cwd=tmp_path)
    assert d2m.returncode == 1
    assert f"{victim.name} is corrupt" in d2m.stderr and "nothing was pushed" in d2m.stderr
    assert registry.catalog() == []
    assert not (workspace / "store" / "blobs").exists()

    (usb / victim.name).unlink()
    d2m = skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(workspace), cwd=tmp_path)
    assert d2m.returncode == 1 and f"{victim.name} is missing" in d2m.stderr


def test_a_crafted_tar_with_escaping_members_is_refused(tmp_path, registries):
    usb = tmp_path / "usb"
    usb.mkdir()
    part = usb / "mirror_000001.tar"
    with tarfile.open(part, "w") as tar:
        for name in ("skomirror/shipment-0001/isc.yaml", "../../escaped-by-dots", str(tmp_path / "escaped-absolute")):
            info = tarfile.TarInfo(name)
            info.size = 5
            tar.addfile(info, io.BytesIO(b"owned"))
    manifest = {"format": "skomirror.shipment/v1", "id": 1, "created": "2026-11-28T00:00:00Z", "basedOn": [],
                "isc": "skomirror/shipment-0001/isc.yaml", "images": [], "blobs": [],
                "parts": [{"name": part.name, "size": part.stat().st_size, "sha256": sha256_of(part)}]}
    (usb / "mirror_shipment_0001.json").write_text(json.dumps(manifest))
    registry = registries("disconnected")
    workspace = tmp_path / "deep" / "ws"
    d2m = skomirror("--from", str(usb), f"docker://{registry.host}", "--workspace", str(workspace), cwd=tmp_path)
    assert d2m.returncode == 1
    assert "refusing member '../../escaped-by-dots': it would be written outside" in d2m.stderr
    assert not (tmp_path / "escaped-by-dots").exists() and not (tmp_path / "deep" / "escaped-by-dots").exists()
    assert not (tmp_path / "escaped-absolute").exists()
    assert not (workspace / "store" / "blobs").exists()
    assert registry.catalog() == []


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB filesystem when this machine lets us mount one, else an injected free-space figure."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                             capture_output=True).returncode == 0
    yield mount_point, ({} if mounted else {FREE_SPACE_OVERRIDE: str(256 * 1024)})
    if mounted:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_not_enough_disk_space_stops_before_writing_anything(tmp_path, source, small_disk):
    names = [f"big{i}" for i in range(8)]  # about 8 x 40 kB + base, stored and archived: more than 256 KiB
    seed(source, names)
    disk, env = small_disk
    result = skomirror(str(isc_for(tmp_path, source, names)), f"file://{disk}/mirror", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"not enough disk space in {disk}/mirror" in result.stderr
    assert "of new blobs for the store" in result.stderr
    assert not (disk / "mirror").exists()


def test_interrupted_mirror_to_disk_and_disk_to_mirror_resume_with_only_what_is_missing(tmp_path, source,
                                                                                          registries):
    names = [f"slow{i}" for i in range(6)]
    heavy = {}
    for name in names:
        heavy[name] = simple_image(name, (600_000, 200_000), BASE)
        source.push(f"apps/{name}", "1", heavy[name])
    disk, connected = tmp_path / "disk", tmp_path / "ws-connected"
    with WanProxy(source.port, latency=0.01, connection_rate=1.5e6, total_rate=1.5e6) as proxy:
        isc = write_isc(tmp_path / "isc.yaml", [f"{proxy.host}/apps/{name}:1" for name in names])
        code, _, stderr = interrupted_skomirror("--parallel-images", "2", str(isc), f"file://{disk}",
                                                "--workspace", str(connected), cwd=tmp_path, workspace=connected,
                                                after_copies=1, freeze=proxy.hold)
        proxy.release()
        assert code == 130, stderr
        done_before = {i["destination"] for i in results(connected)["images"] if i["status"] == "copied"}
        assert 1 <= len(done_before) < len(names)
        assert not list(disk.glob("mirror_*.tar"))  # no archive from an interrupted run
        proxy.reset_counters()
        rerun = skomirror("--parallel-images", "2", str(isc), f"file://{disk}", "--workspace", str(connected),
                          cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stderr
        statuses = {i["destination"]: i["status"] for i in results(connected)["images"]}
        assert {d for d, status in statuses.items() if status == "skipped"} == done_before
        pulled_again = proxy.counters.bytes_down
    unique = sum(len(blob.data) for blob in {b.digest: b for image in heavy.values() for b in image.blobs}.values())
    assert pulled_again < unique  # what the first run stored is not fetched again

    with Registry(tmp_path / "disconnected") as registry, \
            WanProxy(registry.port, latency=0.01, connection_rate=1.5e6, total_rate=1.5e6) as slow_registry:
        usb, disconnected = carry(disk, tmp_path / "usb"), tmp_path / "ws-disconnected"
        target = f"docker://{slow_registry.host}"
        code, _, stderr = interrupted_skomirror("--parallel-images", "2", "--from", str(usb), target,
                                                "--workspace", str(disconnected), cwd=tmp_path,
                                                workspace=disconnected, after_copies=1, freeze=slow_registry.hold)
        slow_registry.release()
        assert code == 130, stderr
        pushed_before = {i["destination"] for i in results(disconnected)["images"] if i["status"] == "copied"}
        assert 1 <= len(pushed_before) < len(names)
        rerun = skomirror("--parallel-images", "2", "--from", str(usb), target, "--workspace", str(disconnected),
                          cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stderr
        second = results(disconnected)["images"]
        assert {i["destination"] for i in second if i["status"] == "skipped"} == pushed_before
        assert {i["destination"] for i in second if i["status"] == "copied"} == \
            {i["destination"] for i in second} - pushed_before
        for name, image in heavy.items():
            assert registry.manifest_digest(f"apps/{name}", "1") == image.digest


def test_no_archive_after_a_failure_unless_keep_going(tmp_path, source):
    images = seed(source, ["present"])
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/present:1", f"{source.host}/apps/absent:1"])
    disk = tmp_path / "disk"
    first = skomirror(str(isc), f"file://{disk}", cwd=tmp_path)
    assert first.returncode == 8
    assert "no archive written: 1 image(s) failed" in first.stderr and not list(disk.glob("mirror_*"))
    kept = skomirror(str(isc), f"file://{disk}", "--keep-going", cwd=tmp_path)
    assert kept.returncode == 8
    assert [image["name"] for image in shipment(disk, 1)["images"]] == ["apps/present:1"]
    assert set(shipment(disk, 1)["blobs"]) == digests_of(images.values())
