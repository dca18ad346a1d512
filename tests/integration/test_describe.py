"""`skomirror describe` on real shipments, made by mirror to disk runs with real skopeo and registries."""

import hashlib
import json
from pathlib import Path
from typing import Dict, Tuple

from skomirror.progress import format_bytes
from testkit.images import Index
from tests.integration.conftest import skomirror, skomirror_command
from tests.integration.test_airgap import carry, isc_for, seed


def image_bytes(image) -> int:
    """Every manifest, config and layer an image needs, each once: what describe calls its size."""
    blobs = {image.manifest.digest: image.manifest.size}
    for single in (image.images if isinstance(image, Index) else (image,)):
        blobs[single.manifest.digest] = single.manifest.size
        blobs.update({blob.digest: blob.size for blob in single.blobs})
    return sum(blobs.values())


def snapshot(directory: Path) -> Dict[str, Tuple[int, str]]:
    return {str(path.relative_to(directory)): (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
            for path in sorted(directory.rglob("*")) if path.is_file()}


def describe(directory: Path, *args: str):
    return skomirror_command("describe", f"file://{directory}", *args, cwd=directory.parent)


def mirror_to_disk(tmp_path: Path, source, names, disk: Path, *args: str):
    result = skomirror(str(isc_for(tmp_path, source, names, f"isc-{len(names)}.yaml")), f"file://{disk}",
                       "--workspace", str(tmp_path / "ws-connected"), *args, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_describe_tells_what_each_shipment_holds_and_writes_nothing(tmp_path, source):
    images = seed(source, ["alpha", "beta", "multi-tool", "gamma"])
    disk = tmp_path / "disk"
    mirror_to_disk(tmp_path, source, ["alpha", "beta", "multi-tool"], disk, "--archive-size", "100KiB")
    mirror_to_disk(tmp_path, source, ["alpha", "beta", "multi-tool", "gamma"], disk)
    before = snapshot(disk)

    described = describe(disk)
    assert described.returncode == 0, described.stdout + described.stderr
    assert snapshot(disk) == before  # nothing written, nothing touched
    lines = described.stdout.splitlines()
    one, two = (json.loads((disk / f"mirror_shipment_000{n}.json").read_text()) for n in (1, 2))
    assert lines[0] == f"shipment 1: mirror_shipment_0001.json, made {one['created']}"
    assert lines[1] == "  builds on: nothing (it carries every blob its images need)"
    assert lines[2].startswith(f"  parts: {len(one['parts'])}, ") and lines[2].endswith("every one present and intact")
    assert len(one["parts"]) >= 3
    for part in one["parts"]:
        assert any(line.split() == [part["name"], *format_bytes(part["size"]).split(), "intact"] for line in lines)
    alpha = images["alpha"]
    row = next(line.split() for line in lines if line.strip().startswith("apps/alpha:1 "))
    assert row[:3] == ["apps/alpha:1", alpha.digest, "additional"]
    assert " ".join(row[3:5]) == format_bytes(image_bytes(alpha))
    assert "  builds on: shipment 1 (blobs it carried are not shipped again)" in lines
    assert lines[-1] == (f"{disk}: 2 shipments, {len(one['parts']) + len(two['parts'])} parts, "
                         f"{format_bytes(sum(p['size'] for s in (one, two) for p in s['parts']))}; "
                         "every part present and intact")

    document = json.loads(describe(disk, "--output", "json").stdout)
    assert document["intact"] is True
    first, second = document["shipments"]
    by_name = {image["name"]: image for image in first["images"]}
    for name in ("alpha", "beta", "multi-tool"):
        image = by_name[f"apps/{name}:1"]
        assert (image["digest"], image["bytes"], image["bytesCarried"]) == \
            (images[name].digest, image_bytes(images[name]), image_bytes(images[name])), name
    later = {image["name"]: image for image in second["images"]}
    assert second["basedOn"] == [1] and second["basedOnHere"] == [1]
    assert later["apps/alpha:1"]["bytesCarried"] == 0  # all of it went out in shipment 1
    base = images["gamma"].layers[0].blob.size  # the base layer all of them share went out in shipment 1 too
    assert later["apps/gamma:1"]["bytesCarried"] == image_bytes(images["gamma"]) - base
    assert all(part["intact"] and part["problem"] is None for part in first["parts"] + second["parts"])

    alone = carry(disk, tmp_path / "usb", shipments=[2])
    lonely = describe(alone)
    assert lonely.returncode == 0, lonely.stderr
    assert "  builds on: shipment 1 (blobs it carried are not shipped again); not in this directory: 1, which " \
           "the receiving workspace must have received already" in lonely.stdout.splitlines()
    sizes = {image["name"]: image["bytes"] for image in json.loads(describe(alone, "-o", "json").stdout)[
        "shipments"][0]["images"]}
    assert sizes["apps/alpha:1"] is None  # its manifest is in shipment 1's parts, which are not here
    assert sizes["apps/gamma:1"] == image_bytes(images["gamma"])


def test_describe_names_a_corrupt_and_a_missing_part_and_exits_1(tmp_path, source):
    seed(source, ["alpha", "beta", "gamma"])
    disk = tmp_path / "disk"
    mirror_to_disk(tmp_path, source, ["alpha", "beta", "gamma"], disk, "--archive-size", "100KiB")
    usb = carry(disk, tmp_path / "usb")
    parts = sorted(usb.glob("mirror_*.tar"))
    assert len(parts) >= 3
    data = bytearray(parts[1].read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    parts[1].write_bytes(bytes(data))
    parts[2].unlink()
    before = snapshot(usb)

    described = describe(usb)
    assert described.returncode == 1
    assert snapshot(usb) == before
    lines = described.stdout.splitlines()
    assert f"    {parts[0].name}" in "\n".join(lines) and lines[2].endswith(", 2 damaged")
    corrupt = f"{parts[1].name} is corrupt (sha256 differs from the shipment manifest)"
    missing = f"{parts[2].name} is missing"
    assert any(line.strip().startswith(parts[1].name) and line.endswith(corrupt) for line in lines)
    assert any(line.strip().startswith(parts[2].name) and line.endswith(missing) for line in lines)
    assert lines[-1].endswith("2 damaged: do not push it as it is")
    assert described.stderr.splitlines() == [f"skomirror: error: {usb}: shipment 1: {corrupt}; shipment 1: {missing}"]

    document = json.loads(describe(usb, "-o", "json").stdout)
    assert document["intact"] is False
    states = {part["name"]: part["problem"] for part in document["shipments"][0]["parts"]}
    assert states[parts[0].name] is None and states[parts[1].name] == corrupt and states[parts[2].name] == missing

    pushed = skomirror("--from", f"file://{usb}", "docker://127.0.0.1:1/ocp", "--workspace",
                       str(tmp_path / "ws-disconnected"), cwd=tmp_path)
    assert pushed.returncode == 1 and corrupt in pushed.stderr  # what describe said is what disk to mirror refuses
