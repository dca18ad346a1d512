"""Reading parts from across the air gap: only declared members, bounded, never through a link."""

import io
import os
import re
import tarfile
from pathlib import Path

import pytest
from testkit.images import pseudo_random

from skomirror.airgap import unpacking
from skomirror.airgap.archive import Entry, Part, write_part
from skomirror.airgap.shipments import DamagedShipment, Shipment, read_shipment
from skomirror.airgap.unpacking import Allowed, UnsafeArchive, check_members, check_parts, extract_part, sha256_of

BLOB = "sha256:" + "a" * 64
ISC = "skomirror/shipment-0001/isc.yaml"
SIGNATURE = "signatures/sha256-" + "b" * 64 + "-{}"


def member(name: str, kind: str = "file", data: bytes = b"data") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    if kind == "file":
        info.size = len(data)
    else:
        info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE,
                     "sparse": tarfile.GNUTYPE_SPARSE, "dir": tarfile.DIRTYPE}[kind]
        info.linkname = "/etc/passwd" if kind in ("symlink", "hardlink") else ""
    return info


def pack(directory: Path, members, declared=None, **tar_options) -> Part:
    """mirror_000001.tar of (TarInfo, data) pairs; the part declares what it holds unless told otherwise."""
    path = directory / "mirror_000001.tar"
    with tarfile.open(path, "w", format=tar_options.pop("format", tarfile.PAX_FORMAT), **tar_options) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    files = [info for info, _ in members if not info.isdir()]
    counts = {"files": len(files), "file_bytes": sum(info.size for info in files)}
    counts.update(declared or {})
    return Part(path.name, path.stat().st_size, sha256_of(path), counts["files"], counts["file_bytes"])


def shipment_of(part: Part) -> Shipment:
    return Shipment(1, "2026-11-28T00:00:00Z", [part], [BLOB], [{"name": "apps/a:1"}], [], ISC)


def good(name: str = ISC, data: bytes = b"data"):
    return member(name, data=data), data


def raw_header(name: str, size: int) -> bytes:
    """A ustar header claiming `size` bytes that never follow."""
    return member(name, data=b"x" * 0).tobuf(tarfile.USTAR_FORMAT)[:124] + \
        f"{size:011o}\0".encode() + member(name).tobuf(tarfile.USTAR_FORMAT)[136:512]


HOSTILE = {
    "parent traversal": ([good(), good("../../escaped")], None, "would be written outside"),
    "absolute path": ([good(), good("/tmp/skomirror-absolute-escape")], None, "would be written outside"),
    "symlink": ([good(), (member("blobs/sha256/x", "symlink"), b"")], None, "links and special files"),
    "hard link": ([good(), (member("blobs/sha256/x", "hardlink"), b"")], None, "links and special files"),
    "fifo": ([good(), (member("blobs/sha256/x", "fifo"), b"")], None, "links and special files"),
    "sparse file": ([good(), (member("blobs/sha256/x", "sparse"), b"")], None, "sparse files"),
    "forged received record": ([good(), good("received/mirror_shipment_0002.json")], None,
                               "not something shipment 1's manifest declares"),
    "undeclared blob": ([good(), good("blobs/sha256/" + "c" * 64)], None, "not something shipment 1's"),
    "undeclared layout": ([good(), good("layouts/evil-0123456789/index.json")], None, "not something shipment 1's"),
    "a member twice": ([good(), good("blobs/sha256/" + "a" * 64), good("blobs/sha256/" + "a" * 64)], None,
                       "is in the shipment twice"),
    "more files than declared": ([good()] + [good(SIGNATURE.format(i)) for i in range(50)], {"files": 3},
                                 "holds more than the 3 file(s) its manifest declares"),
    "more bytes than declared": ([good(), good(SIGNATURE.format(1), b"x" * 5000)], {"file_bytes": 100},
                                 "its manifest declares 100"),
    "huge metadata header": ([good()], None, "metadata header is refused"),
    "no ISC inside": ([good("blobs/sha256/" + "a" * 64)], None, "its ISC (skomirror/shipment-0001/isc.yaml) is in "
                                                            "none of its parts"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_parts_are_refused_before_anything_is_written(tmp_path, case):
    members, declared, reason = HOSTILE[case]
    if case == "huge metadata header":
        members[0][0].pax_headers = {"comment": "x" * (2 << 20)}
    usb, target = tmp_path / "usb", tmp_path / "deep" / "target"
    usb.mkdir()
    target.mkdir(parents=True)
    shipment = shipment_of(pack(usb, members, declared))
    with pytest.raises(UnsafeArchive, match=re.escape(reason)) as refused:
        check_members(usb, shipment)
    assert "\n" not in str(refused.value)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "deep" / "escaped").exists()
    assert not Path("/tmp/skomirror-absolute-escape").exists()


@pytest.mark.parametrize("case", ["parent traversal", "absolute path", "symlink", "forged received record"])
def test_extraction_checks_every_member_again(tmp_path, case):
    members, declared, reason = HOSTILE[case]
    part = pack(tmp_path, members, declared)
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(UnsafeArchive, match=re.escape(reason)):
        extract_part(tmp_path, part, target, Allowed(shipment_of(part)))
    assert not (target / "received").exists() and not (tmp_path.parent / "escaped").exists()


def test_a_global_header_is_refused(tmp_path):
    part = pack(tmp_path, [good()], pax_headers={"comment": "global"})
    with pytest.raises(UnsafeArchive, match="global headers"):
        check_members(tmp_path, shipment_of(part))


def test_a_member_claiming_more_than_the_part_holds_is_refused(tmp_path):
    path = tmp_path / "mirror_000001.tar"
    path.write_bytes(raw_header(ISC, 10 ** 9) + bytes(1024))
    part = Part(path.name, path.stat().st_size, sha256_of(path))
    with pytest.raises(UnsafeArchive, match="claim more bytes than the part holds"):
        check_members(tmp_path, shipment_of(part))


@pytest.mark.parametrize("content", [pytest.param(pseudo_random("no tar", 3000), id="random-3000"), b"", b"\0" * 100])
def test_random_bytes_are_not_a_tar(tmp_path, content):
    path = tmp_path / "mirror_000001.tar"
    path.write_bytes(content)
    with pytest.raises(UnsafeArchive):
        check_members(tmp_path, shipment_of(Part(path.name, len(content), sha256_of(path))))


def test_a_manifest_without_file_counts_is_bounded_all_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(unpacking, "MAX_UNDECLARED_SIGNATURES", 5)
    part = pack(tmp_path, [good()] + [good(SIGNATURE.format(i)) for i in range(40)])
    undeclared = Part(part.name, part.size, part.sha256)  # as an older skomirror wrote it
    allowed = len(Allowed(shipment_of(undeclared)).files)
    with pytest.raises(UnsafeArchive, match=f"more than the {allowed + 5} file"):
        check_members(tmp_path, shipment_of(undeclared))


def test_a_symlinked_part_is_refused_and_never_read(tmp_path):
    outside, usb = tmp_path / "outside", tmp_path / "usb"
    outside.mkdir()
    usb.mkdir()
    part = pack(outside, [good()])
    (usb / part.name).symlink_to(outside / part.name)
    assert check_parts(usb, [part]) == ["mirror_000001.tar: a symlink is refused: --from reads only the files "
                                        "inside it"]
    with pytest.raises(UnsafeArchive, match="symlink is refused"):
        check_members(usb, shipment_of(part))


def test_a_symlinked_directory_in_the_target_cannot_be_used_to_escape(tmp_path):
    target, outside = tmp_path / "target", tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    (target / "skomirror").symlink_to(outside)
    part = pack(tmp_path, [good()])
    with pytest.raises(UnsafeArchive, match="resolves outside"):
        extract_part(tmp_path, part, target, Allowed(shipment_of(part)))
    assert list(outside.iterdir()) == []


def test_a_link_left_at_the_temporary_name_is_not_followed(tmp_path):
    target, victim = tmp_path / "target", tmp_path / "victim"
    victim.write_text("untouched")
    (target / "skomirror" / "shipment-0001").mkdir(parents=True)
    (target / "skomirror" / "shipment-0001" / ".isc.yaml.extracting").symlink_to(victim)
    part = pack(tmp_path, [good(data=b"the isc")])
    assert extract_part(tmp_path, part, target, Allowed(shipment_of(part))) == 1
    assert victim.read_text() == "untouched" and (target / ISC).read_bytes() == b"the isc"


def test_what_skomirror_writes_is_what_it_accepts(tmp_path):
    files = {ISC: b"isc", "skomirror/shipment-0001/images.json": b"[]", "blobs/sha256/" + "a" * 64: b"blob",
             SIGNATURE.format(1): b"signature"}
    entries = []
    for index, (name, data) in enumerate(files.items()):
        (tmp_path / f"f{index}").write_bytes(data)
        entries.append(Entry(name, tmp_path / f"f{index}", len(data)))
    usb, target = tmp_path / "usb", tmp_path / "target"
    usb.mkdir()
    part = write_part(usb, 1, entries)
    shipment = shipment_of(part)
    check_members(usb, shipment)
    assert extract_part(usb, part, target, Allowed(shipment)) == 4
    assert {name: (target / name).read_bytes() for name in files} == files


@pytest.mark.parametrize("declared", [3, None])
def test_a_hundred_thousand_members_are_refused_after_the_first_beyond_the_manifest(tmp_path, declared):
    header = member(SIGNATURE.format(1), data=b"").tobuf(tarfile.USTAR_FORMAT)
    path = tmp_path / "mirror_000001.tar"
    path.write_bytes(header * 100_000 + bytes(1024))
    part = Part(path.name, path.stat().st_size, sha256_of(path), declared, 0 if declared else None)
    with pytest.raises(UnsafeArchive, match="holds more than the"):
        check_members(tmp_path, shipment_of(part))


def test_a_fifo_in_place_of_a_part_or_manifest_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "mirror_000001.tar")
    os.mkfifo(tmp_path / "mirror_shipment_0001.json")
    assert check_parts(tmp_path, [Part("mirror_000001.tar", 1, "0" * 64)]) == \
        ["mirror_000001.tar: not a regular file"]
    with pytest.raises(DamagedShipment, match="not a regular file"):
        read_shipment(tmp_path / "mirror_shipment_0001.json")
