"""`skomirror describe` on shipments packed here with the archive code itself: text, JSON, damaged and unsafe
parts, and directories that hold no shipment."""

import hashlib
import json
import tarfile
from pathlib import Path
from typing import Dict, Sequence

import pytest

from skomirror.airgap.archive import Entry, group_entries, write_part
from skomirror.airgap.unpacking import sha256_of
from skomirror.airgap.shipments import Shipment
from skomirror.cli import main
from skomirror.manifests import Descriptor
from skomirror.naming import MirrorName
from skomirror.progress import format_bytes
from skomirror.store import Store
from testkit.images import make_index, make_layer, put_in_store, simple_image

BASE = [make_layer("describe-base", 5000)]
CREATED = "2026-01-02T03:04:05Z"


def size_of(image) -> int:
    blobs = {image.manifest.digest: image.manifest.size}
    for single in getattr(image, "images", (image,)):
        blobs[single.manifest.digest] = single.manifest.size
        blobs.update({blob.digest: blob.size for blob in single.blobs})
    return sum(blobs.values())


def pack(directory: Path, store: Store, names: Sequence[MirrorName], shipment_id: int, shipped: set,
         first_part: int, limit=None, based_on=()) -> Shipment:
    """A shipment as mirror to disk packs one: layouts of `names`, every blob of the store not in `shipped`."""
    isc = store.root / f"skomirror/shipment-{shipment_id:04d}/isc.yaml"  # every shipment carries its ISC
    isc.parent.mkdir(parents=True, exist_ok=True)
    isc.write_text("kind: ImageSetConfiguration\n")
    entries = [Entry(isc.relative_to(store.root).as_posix(), isc, isc.stat().st_size)]
    for name in names:
        entries += [Entry(f"layouts/{store.layout(name).name}/{leaf}", store.layout(name) / leaf,
                          (store.layout(name) / leaf).stat().st_size) for leaf in ("oci-layout", "index.json")]
    blobs = sorted("sha256:" + path.name for path in (store.blobs / "sha256").iterdir())
    new = [digest for digest in blobs if digest not in shipped]
    entries += [Entry(f"blobs/sha256/{d.split(':')[1]}", store.blob_path(d), store.blob_path(d).stat().st_size)
                for d in new]
    parts = [write_part(directory, first_part + i, group) for i, group in enumerate(group_entries(entries, limit))]
    images = [{"name": str(name), "digest": store.tagged_digest(name), "origin": f"quay.example/{name}",
               "source": f"quay.example/{name}", "kind": "ADDITIONAL", "requires": [], "signs": None} for name in names]
    shipment = Shipment(shipment_id, CREATED, parts, new, images, list(based_on),
                        f"skomirror/shipment-{shipment_id:04d}/isc.yaml")
    (directory / shipment.manifest_name).write_text(shipment.to_json())
    shipped.update(new)
    return shipment


@pytest.fixture
def shipments(tmp_path):
    """Shipment 1: a single-platform image and a multi-arch one kept for amd64 only; shipment 2 adds one more."""
    store = Store(tmp_path / "store").prepare()
    disk = tmp_path / "disk"
    disk.mkdir()
    alpha = simple_image("alpha", (3000,), BASE)
    multi = make_index([simple_image("multi", (2000,), BASE, arch) for arch in ("amd64", "arm64")])
    beta = simple_image("beta", (4000,), BASE)
    names = {"alpha": MirrorName("apps/alpha", "1"), "multi": MirrorName("apps/multi", "1"),
             "beta": MirrorName("apps/beta", "1")}
    put_in_store(store, names["alpha"], alpha)
    amd64 = multi.images[0]
    for blob in amd64.blobs:
        store.put_blob(blob.data)
    store.put_blob(amd64.manifest.data)
    store.tag(names["multi"], multi.manifest.data, multi.manifest.media_type,
              children=[Descriptor(amd64.digest, amd64.manifest.size, amd64.manifest.media_type)])
    shipped: set = set()
    first = pack(disk, store, [names["alpha"], names["multi"]], 1, shipped, 1, limit=16 * 1024)
    put_in_store(store, names["beta"], beta)
    pack(disk, store, [names["alpha"], names["multi"], names["beta"]], 2, shipped, len(first.parts) + 1,
         based_on=[1])
    sparse_multi = size_of(multi) - size_of(multi.images[1]) + BASE[0].blob.size  # arm64's own part was not copied
    return disk, {"alpha": (alpha, size_of(alpha)), "multi": (multi, sparse_multi), "beta": (beta, size_of(beta))}


def describe(capsys, *args):
    with pytest.raises(SystemExit) as exited:
        main(["describe", *args])
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def snapshot(directory: Path) -> Dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest() + str(p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_text_names_every_part_image_digest_and_size(capsys, shipments):
    disk, images = shipments
    before = snapshot(disk)
    code, out, err = describe(capsys, f"file://{disk}")
    assert (code, err) == (0, "")
    assert snapshot(disk) == before
    lines = out.splitlines()
    one = json.loads((disk / "mirror_shipment_0001.json").read_text())
    assert lines[0] == f"shipment 1: mirror_shipment_0001.json, made {CREATED}"
    assert lines[1] == "  builds on: nothing (it carries every blob its images need)"
    assert lines[2] == f"  parts: {len(one['parts'])}, {format_bytes(sum(p['size'] for p in one['parts']))}, " \
                       "every one present and intact"
    assert len(one["parts"]) >= 2
    assert lines[3:3 + len(one["parts"])] == [f"    {p['name']}  {format_bytes(p['size'])}  intact"
                                               for p in one["parts"]]
    header = lines.index("  images: 2")
    assert lines[header + 1].split() == ["NAME", "DIGEST", "KIND", "SIZE", "CARRIED", "ORIGIN"]
    image, size = images["multi"]
    assert lines[header + 3].split() == ["apps/multi:1", image.digest, "additional", *format_bytes(size).split(),
                                         *format_bytes(size).split(), "quay.example/apps/multi:1"]
    assert "  builds on: shipment 1 (blobs it carried are not shipped again)" in lines
    assert lines[-1].startswith(f"{disk}: 2 shipments, {len(one['parts']) + 1} parts, ")
    assert lines[-1].endswith("; every part present and intact")


def test_json_gives_sizes_and_what_each_shipment_carries(capsys, shipments):
    disk, images = shipments
    code, out, _ = describe(capsys, str(disk), "--output", "json")  # a plain path works too
    document = json.loads(out)
    assert code == 0 and document["intact"] is True and document["directory"] == str(disk)
    first, second = document["shipments"]
    assert (first["id"], first["basedOn"], second["basedOn"], second["basedOnHere"]) == (1, [], [1], [1])
    assert first["bytes"] == sum(part["size"] for part in first["parts"])
    assert all(part["intact"] and part["problem"] is None and len(part["sha256"]) == 64 for part in first["parts"])
    by_name = {image["name"]: image for image in first["images"]}
    for name in ("alpha", "multi"):
        image, size = images[name]
        assert (by_name[f"apps/{name}:1"]["digest"], by_name[f"apps/{name}:1"]["bytes"],
                by_name[f"apps/{name}:1"]["bytesCarried"]) == (image.digest, size, size), name
    later = {image["name"]: image for image in second["images"]}
    beta, size = images["beta"]
    assert (later["apps/beta:1"]["bytes"], later["apps/beta:1"]["bytesCarried"]) == (size, size - BASE[0].blob.size)
    assert later["apps/alpha:1"]["bytesCarried"] == 0
    carried = json.loads((disk / "mirror_shipment_0002.json").read_text())["blobs"]
    assert set(carried) == {beta.manifest.digest, beta.config.digest, beta.layers[1].blob.digest}  # not the base
    assert second["blobs"] == len(carried)


def test_a_truncated_and_an_unsafe_part_are_named_and_exit_code_1(capsys, shipments, tmp_path):
    disk, _ = shipments
    manifest = disk / "mirror_shipment_0001.json"
    one = json.loads(manifest.read_text())
    first = disk / one["parts"][0]["name"]
    first.write_bytes(first.read_bytes()[:-512])
    unsafe = tmp_path / "unsafe.tar"
    with tarfile.open(unsafe, "w") as tar:
        link = tarfile.TarInfo("blobs/sha256/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    (disk / "mirror_000099.tar").write_bytes(unsafe.read_bytes())
    one["parts"].append({"name": "mirror_000099.tar", "size": unsafe.stat().st_size, "sha256": sha256_of(unsafe)})
    manifest.write_text(json.dumps(one))
    code, out, err = describe(capsys, f"file://{disk}")
    assert code == 1
    truncated = f"{first.name} is {first.stat().st_size} bytes, expected {one['parts'][0]['size']} (truncated?)"
    refused = "mirror_000099.tar: refusing a member of type b'2': links and special files are not part of a " \
              "skomirror archive"
    lines = out.splitlines()
    assert lines[2].endswith(", 2 damaged")
    assert any(line.endswith(truncated) for line in lines) and any(line.endswith(refused) for line in lines)
    assert lines[-1].endswith("2 damaged: do not push it as it is")
    assert err.splitlines() == [f"skomirror: error: {disk}: shipment 1: {truncated}; shipment 1: {refused}"]


@pytest.mark.parametrize("make, message", [
    (lambda d: d.mkdir(), "{d}: no shipment manifest (mirror_shipment_NNNN.json) found; a mirror to disk run writes "
                          "one beside its mirror_*.tar parts"),
    (lambda d: None, "{d}: no such directory"),
    (lambda d: d.write_text("a file"), "{d}: no such directory"),
    (lambda d: (d.mkdir(), (d / "mirror_shipment_0001.json").write_text("{not json")),
     "{d}/mirror_shipment_0001.json: not a usable shipment manifest: not JSON (Expecting property name enclosed in "
     "double quotes: line 1 column 2 (char 1))"),
])
def test_a_directory_without_shipments_is_one_line_and_exit_code_1(capsys, tmp_path, make, message):
    directory = tmp_path / "usb"
    make(directory)
    code, out, err = describe(capsys, f"file://{directory}")
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"skomirror: error: {message.format(d=directory)}"]


def test_describe_needs_its_directory(capsys):
    code, out, err = describe(capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == ["skomirror: error: Missing argument 'file://DIR'. (see 'skomirror describe --help')"]
