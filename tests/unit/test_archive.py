import io
import tarfile
from datetime import date
from pathlib import Path

import pytest

from skomirror.airgap.archive import (RECORD, Entry, UnsafeArchive, check_members, check_parts, extract_part, group_entries,
                               member_bytes, write_part)
from skomirror.airgap.shipments import History, Shipment


def files(tmp_path: Path, sizes) -> list:
    entries = []
    for index, size in enumerate(sizes):
        path = tmp_path / f"f{index}"
        path.write_bytes(bytes([index % 256]) * size)
        entries.append(Entry(f"blobs/sha256/{index:064x}", path, size))
    return entries


def test_parts_never_exceed_the_limit_and_never_split_a_file(tmp_path):
    entries = files(tmp_path, [30_000, 30_000, 30_000, 5_000, 90_000])
    limit = 80_000
    groups = group_entries(entries, limit)
    assert [[e.size for e in group] for group in groups] == [[30_000, 30_000], [30_000, 5_000], [90_000]]
    parts = [write_part(tmp_path, number, group) for number, group in enumerate(groups, 1)]
    assert [p.name for p in parts] == ["mirror_000001.tar", "mirror_000002.tar", "mirror_000003.tar"]
    assert all(p.size <= limit for p in parts[:2]) and parts[2].size > limit  # the 90 kB blob goes alone
    assert all(p.size == (tmp_path / p.name).stat().st_size for p in parts)


def test_member_cost_is_exact(tmp_path):
    entries = files(tmp_path, [1, 512, 513, 0])
    long = tmp_path / "long"
    long.write_bytes(b"x")
    entries.append(Entry("layouts/" + "k" * 120 + "/index.json", long, 1))
    part = write_part(tmp_path, 1, entries)
    content = sum(member_bytes(e.arcname, e.size) for e in entries) + 2 * 512
    assert part.size == -(-content // RECORD) * RECORD


def test_no_limit_means_one_part(tmp_path):
    assert len(group_entries(files(tmp_path, [10, 20, 30]), None)) == 1


def test_check_parts_names_missing_truncated_and_corrupt_parts(tmp_path):
    groups = group_entries(files(tmp_path, [2000, 2000, 2000]), 5000)
    parts = [write_part(tmp_path, number, group) for number, group in enumerate(groups, 1)]
    assert check_parts(tmp_path, parts) == []
    (tmp_path / parts[0].name).unlink()
    with open(tmp_path / parts[1].name, "r+b") as handle:
        handle.seek(700)
        byte = handle.read(1)
        handle.seek(700)
        handle.write(bytes([byte[0] ^ 0x01]))
    problems = check_parts(tmp_path, parts)
    assert problems == ["mirror_000001.tar is missing",
                        "mirror_000002.tar is corrupt (sha256 differs from the shipment manifest)"]
    with open(tmp_path / parts[2].name, "r+b") as handle:
        handle.truncate(1024)
    assert check_parts(tmp_path, parts[2:]) == [f"mirror_000003.tar is 1024 bytes, expected {parts[2].size} "
                                                f"(truncated?)"]


def crafted(tmp_path: Path, members) -> Path:
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tar:
        for name, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = 4
                tar.addfile(info, io.BytesIO(b"evil"))
            else:
                info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
                info.linkname = "/etc/passwd"
                tar.addfile(info)
    return path


@pytest.mark.parametrize("members, reason", [
    ([("blobs/ok", "file"), ("../../escaped", "file")], "would be written outside"),
    ([("/tmp/absolute-escape", "file")], "would be written outside"),
    ([("blobs/../../x", "file")], "would be written outside"),
    ([("blobs/link", "symlink")], "links and special files"),
    ([("blobs/hard", "hardlink")], "links and special files"),
    ([("blobs/pipe", "fifo")], "links and special files"),
])
def test_unsafe_members_are_refused_before_anything_is_written(tmp_path, members, reason):
    part = crafted(tmp_path, members)
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(UnsafeArchive, match=reason):
        check_members([part])
    with pytest.raises(UnsafeArchive, match=reason):
        extract_part(part, target)
    assert list(target.iterdir()) == []
    assert not (tmp_path.parent / "escaped").exists() and not Path("/tmp/absolute-escape").exists()


def test_a_symlinked_directory_in_the_target_cannot_be_used_to_escape(tmp_path):
    target, outside = tmp_path / "target", tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    (target / "blobs").symlink_to(outside)
    part = crafted(tmp_path, [("blobs/file", "file")])
    with pytest.raises(UnsafeArchive, match="resolves outside"):
        extract_part(part, target)
    assert list(outside.iterdir()) == []


def test_extraction_writes_files(tmp_path):
    entries = files(tmp_path, [3, 5])
    part = write_part(tmp_path, 1, entries)
    target = tmp_path / "target"
    assert extract_part(tmp_path / part.name, target) == 2
    assert (target / entries[1].arcname).read_bytes() == entries[1].path.read_bytes()


def shipment(number: int, created: str, blobs, parts=()) -> Shipment:
    from skomirror.airgap.archive import Part
    return Shipment(number, created, [Part(f"mirror_{p:06d}.tar", 1, "0") for p in parts], list(blobs), [])


def test_history_counts_shipped_blobs_and_since_leaves_newer_shipments_out(tmp_path):
    history = History(tmp_path / "history")
    history.record(shipment(1, "2026-11-01T10:00:00Z", ["a", "b"], [1, 2]))
    history.record(shipment(2, "2026-11-20T10:00:00Z", ["c"], [3]))
    assert history.shipped() == {1: {"a", "b"}, 2: {"c"}}
    assert history.shipped(since=date(2026, 11, 20)) == {1: {"a", "b"}}
    assert history.next_numbers(tmp_path / "nowhere") == (3, 4)


def test_next_numbers_also_look_at_the_archive_directory(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "mirror_shipment_0007.json").write_text(shipment(7, "2026-11-01T10:00:00Z", [], [10, 11]).to_json())
    assert History(tmp_path / "history").next_numbers(archive) == (8, 12)
