"""Shipments of shards: numbered K+1 modulo N so that they never share a name, gathered into one directory with
links, nothing replaced and nothing but regular files taken."""

import hashlib
import os

import pytest

from skomirror.airgap.archive import Part
from skomirror.airgap.gathering import gather_shipments
from skomirror.airgap.history import History
from skomirror.airgap.shipments import Shipment
from skomirror.errors import SkomirrorError


def test_each_shard_takes_its_own_shipment_and_part_numbers(tmp_path):
    numbers = [History(tmp_path / f"d{k}").next_numbers(tmp_path / "nowhere", stride=3, offset=k) for k in range(3)]
    assert numbers == [(1, 1), (2, 2), (3, 3)]
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "mirror_shipment_0004.json").write_text(shipment(archive, 4, [4, 7]).to_json())
    assert History(tmp_path / "d0").next_numbers(archive, stride=3, offset=0) == (7, 10)  # after 4, then 7 + 3j
    assert History(tmp_path / "d2").next_numbers(archive, stride=3, offset=2) == (6, 9)
    assert History(tmp_path / "d9").next_numbers(archive) == (5, 8)  # unsharded: as before


def shipment(directory, number, parts, content=b"part") -> Shipment:
    written = []
    for part in parts:
        data = content + bytes([part])
        (directory / f"mirror_{part:06d}.tar").write_bytes(data)
        written.append(Part(f"mirror_{part:06d}.tar", len(data), hashlib.sha256(data).hexdigest()))
    return Shipment(number, "2026-11-01T10:00:00Z", written, [], [], [], f"skomirror/shipment-{number:04d}/isc.yaml")


def shard_directory(root, k, number, parts, content=b"part"):
    directory = root / f"shard-{k}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"mirror_shipment_{number:04d}.json").write_text(shipment(directory, number, parts, content).to_json())
    return directory


def test_the_shards_shipments_land_in_one_directory_as_links_and_twice_is_once(tmp_path):
    directories = [shard_directory(tmp_path, 0, 1, [1, 4]), shard_directory(tmp_path, 1, 2, [2])]
    said = []
    assert gather_shipments(directories, tmp_path / "carry", said.append) == 2
    assert sorted(path.name for path in (tmp_path / "carry").iterdir()) == [
        "mirror_000001.tar", "mirror_000002.tar", "mirror_000004.tar", "mirror_shipment_0001.json",
        "mirror_shipment_0002.json"]
    assert os.stat(tmp_path / "carry" / "mirror_000004.tar").st_ino == os.stat(directories[0] / "mirror_000004.tar").st_ino
    assert gather_shipments(directories, tmp_path / "carry", said.append) == 0
    assert said[0] == f"gathered shipment 1 from {directories[0]}"


def test_a_name_taken_by_other_content_is_refused_and_nothing_replaced(tmp_path):
    first = shard_directory(tmp_path / "a", 0, 1, [1])
    gather_shipments([first], tmp_path / "carry", print)
    other = shard_directory(tmp_path / "b", 0, 1, [1], content=b"other")
    with pytest.raises(SkomirrorError) as refused:
        gather_shipments([other], tmp_path / "carry", print)
    assert str(refused.value) == (f"{tmp_path / 'carry' / 'mirror_000001.tar'} is already there and is not "
                                  f"{other / 'mirror_000001.tar'}: shipments of different runs share a number (was the "
                                  "number of shards changed?); gather into an empty directory")
    assert (tmp_path / "carry" / "mirror_000001.tar").read_bytes() == b"part\x01"


def test_a_symlinked_or_short_part_is_not_gathered(tmp_path):
    directory = shard_directory(tmp_path, 0, 1, [1])
    outside = tmp_path / "outside.tar"
    (directory / "mirror_000001.tar").rename(outside)
    (directory / "mirror_000001.tar").symlink_to(outside)
    with pytest.raises(SkomirrorError, match=r"mirror_000001.tar: not a regular file \(a symlink"):
        gather_shipments([directory], tmp_path / "carry", print)
    (directory / "mirror_000001.tar").unlink()
    (directory / "mirror_000001.tar").write_bytes(b"p")
    with pytest.raises(SkomirrorError, match=r"mirror_000001.tar: 1 bytes, its manifest .* says 5: the shipment is "
                                             "incomplete"):
        gather_shipments([directory], tmp_path / "carry", print)
    assert not (tmp_path / "carry" / "mirror_shipment_0001.json").exists()
