from pathlib import Path

from skomirror.airgap.archive import RECORD, Entry, group_entries, member_bytes, write_part
from skomirror.airgap.unpacking import check_parts


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


def test_a_part_declares_its_file_count_and_bytes(tmp_path):
    part = write_part(tmp_path, 1, files(tmp_path, [3, 5, 0]))
    assert (part.files, part.file_bytes) == (3, 8)
    assert part.to_json()["files"] == 3 and part.to_json()["fileBytes"] == 8
