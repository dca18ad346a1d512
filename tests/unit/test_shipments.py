"""Shipment manifests read back without trust, and the records skomirror keeps of shipments."""

import hashlib
import json
import os
from datetime import date

import pytest
from testkit.images import pseudo_random

from skomirror.airgap import shipments as shipments_module
from skomirror.airgap.archive import Part
from skomirror.airgap.history import History, Received
from skomirror.airgap.shipments import DamagedShipment, Shipment, read_shipment
from skomirror.store import Store


def digest(seed: str) -> str:
    return "sha256:" + (seed * 64)[:64]


def shipment(number: int, created: str = "2026-11-01T10:00:00Z", blobs=(), parts=(), images=()) -> Shipment:
    return Shipment(number, created, [Part(f"mirror_{p:06d}.tar", 1, "0" * 64) for p in parts],
                    [digest(b) for b in blobs], list(images), [], f"skomirror/shipment-{number:04d}/isc.yaml")


GOOD = json.loads(shipment(1, blobs="a", parts=[1], images=[
    {"name": "apps/a:1", "digest": digest("d"), "origin": "src.io/apps/a:1", "source": "src.io/apps/a:1",
     "kind": "ADDITIONAL", "requires": [], "signs": None}]).to_json())


def altered(path, value):
    data = json.loads(json.dumps(GOOD))
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


HOSTILE = [  # (what is changed, the value, the key the error must name)
    (("parts", 0, "name"), "../../../x.tar", "parts[0].name"),
    (("parts", 0, "name"), "/etc/x.tar", "parts[0].name"),
    (("parts", 0, "name"), "sub/mirror_000001.tar", "parts[0].name"),
    (("isc",), "../../../../etc/passwd", "isc"),
    (("isc",), "/etc/passwd", "isc"),
    (("isc",), KeyError, "isc"),
    (("id",), "1", "id"),
    (("id",), True, "id"),
    (("id",), 2, "id"),  # the file is mirror_shipment_0001.json
    (("id",), KeyError, "id"),
    (("parts",), {"name": "x"}, "parts"),
    (("parts",), KeyError, "parts"),
    (("parts", 0), "mirror_000001.tar", "parts[0]"),
    (("parts", 0, "size"), -1, "parts[0].size"),
    (("parts", 0, "size"), "12", "parts[0].size"),
    (("parts", 0, "sha256"), "xyz", "parts[0].sha256"),
    (("parts", 0, "files"), "many", "parts[0].files"),
    (("blobs", 0), "../../etc", "blobs[0]"),
    (("blobs", 0), 7, "blobs[0]"),
    (("blobs",), "sha256:abc", "blobs"),
    (("images", 0), [], "images[0]"),
    (("images", 0, "name"), KeyError, "images[0].name"),
    (("images", 0, "name"), "../../x:1", "images[0].name"),
    (("images", 0, "name"), "apps/a", "images[0].name"),
    (("images", 0, "source"), "not a reference!", "images[0].source"),
    (("images", 0, "kind"), "ROOTKIT", "images[0].kind"),
    (("images", 0, "requires"), "src.io/x:1", "images[0].requires"),
    (("images", 0, "signs"), 5, "images[0].signs"),
    (("images", 0, "origin"), {"a": 1}, "images[0].origin"),
    (("basedOn",), "1", "basedOn"),
    (("basedOn",), [None], "basedOn[0]"),
    (("format",), "something/v9", "format"),
    (("created",), "yesterday", "created"),
]


@pytest.mark.parametrize("path, value, key", HOSTILE, ids=[f"{k}={v!r}"[:40] for _, v, k in HOSTILE])
def test_a_hostile_manifest_is_refused_naming_its_file_and_key(tmp_path, path, value, key):
    manifest = tmp_path / "mirror_shipment_0001.json"
    manifest.write_text(json.dumps(altered(path, value)))
    with pytest.raises(DamagedShipment) as refused:
        read_shipment(manifest)
    message = str(refused.value)
    assert message.startswith(f"{manifest}: ") and f"key {key!r}" in message and "\n" not in message


@pytest.mark.parametrize("content", [pytest.param(pseudo_random("no manifest", 200), id="random-200"), b"\xff\xfe",
                                     b"[1, 2]", b"null", b"[" * 100_000, b""])
def test_bytes_that_are_no_manifest_are_refused(tmp_path, content):
    manifest = tmp_path / "mirror_shipment_0001.json"
    manifest.write_bytes(content)
    with pytest.raises(DamagedShipment, match="not a usable shipment manifest"):
        read_shipment(manifest)


def test_a_symlinked_or_oversized_manifest_is_refused(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(GOOD))
    link = tmp_path / "mirror_shipment_0001.json"
    link.symlink_to(elsewhere)
    with pytest.raises(DamagedShipment, match="symlink"):
        read_shipment(link)
    link.unlink()
    link.write_text(json.dumps(GOOD))
    assert read_shipment(link).parts[0].name == "mirror_000001.tar"
    monkeypatch.setattr(shipments_module, "MAX_MANIFEST_BYTES", 100)
    with pytest.raises(DamagedShipment, match="too large"):
        read_shipment(link)


def test_what_skomirror_writes_reads_back_the_same(tmp_path):
    manifest = tmp_path / "mirror_shipment_0001.json"
    manifest.write_text(json.dumps(GOOD))
    assert json.loads(read_shipment(manifest).to_json()) == GOOD


def test_history_counts_shipped_blobs_and_since_leaves_newer_shipments_out(tmp_path):
    history = History(tmp_path)
    history.record(shipment(1, "2026-11-01T10:00:00Z", "ab", [1, 2]))
    history.record(shipment(2, "2026-11-20T10:00:00Z", "c", [3]))
    assert History(tmp_path).shipped() == {1: {digest("a"), digest("b")}, 2: {digest("c")}}
    assert History(tmp_path).shipped(since=date(2026, 11, 20)) == {1: {digest("a"), digest("b")}}
    assert History(tmp_path).next_numbers(tmp_path / "nowhere") == (3, 4)


def test_next_numbers_also_look_at_the_archive_directory_even_at_a_damaged_manifest(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "mirror_shipment_0007.json").write_text(shipment(7, parts=[10, 11]).to_json())
    assert History(tmp_path / "dest").next_numbers(archive) == (8, 12)
    (archive / "mirror_shipment_0009.json").write_text("{damaged")
    assert History(tmp_path / "dest").next_numbers(archive) == (10, 12)


def test_a_damaged_record_is_set_aside_with_a_warning_and_its_number_is_not_reused(tmp_path):
    history, warnings = History(tmp_path, lambda m: warnings.append(m)), []
    history.record(shipment(1, blobs="a", parts=[1]))
    history.record(shipment(2, blobs="b", parts=[2]))
    (tmp_path / "history" / "mirror_shipment_0002.json").write_bytes(os.urandom(64))
    reread = History(tmp_path, warnings.append)
    assert reread.shipped() == {1: {digest("a")}}
    assert len(warnings) == 1 and "mirror_shipment_0002.json" in warnings[0] and "shipped again" in warnings[0]
    assert (tmp_path / "history" / "mirror_shipment_0002.json.damaged").exists()
    assert reread.next_numbers(tmp_path / "nowhere") == (3, 2)
    assert History(tmp_path, warnings.append).shipped() == {1: {digest("a")}} and len(warnings) == 1


def test_the_old_workspace_history_is_read_then_moved_with_the_next_record(tmp_path):
    dest, legacy = tmp_path / "dest", tmp_path / "workspace" / "history"
    store = Store(dest / "store").prepare()
    store.put_blob(b"kept")
    kept = "sha256:" + hashlib.sha256(b"kept").hexdigest()
    old = History(tmp_path / "workspace")  # an earlier skomirror wrote WORKSPACE/history like this
    mine = shipment(1, parts=[1])
    mine.blobs = [kept]
    old.record(mine)
    old.record(shipment(2, blobs="e", parts=[2]))  # its blob is not in this store: another destination's
    warnings = []
    history = History(dest, warnings.append, legacy=legacy, store=store)
    assert history.shipped() == {1: {kept}}, warnings
    assert any("1 shipment record(s) in" in w and "(mirror_shipment_0002.json)" in w and "another one" in w
               for w in warnings), warnings
    assert any("read from" in w and str(legacy) in w for w in warnings)
    assert not (dest / "history").exists()  # reading writes nothing
    history.record(shipment(3, blobs="c", parts=[3]))
    assert sorted(path.name for path in (dest / "history").iterdir()) == ["mirror_shipment_0001.json",
                                                                          "mirror_shipment_0003.json"]
    assert History(dest, legacy=legacy, store=store).shipped() == {1: {kept}, 3: {digest("c")}}


def test_received_means_the_same_parts_not_just_the_same_number(tmp_path):
    store = Store(tmp_path / "store")
    received = Received(tmp_path / "received", store)
    first = shipment(1, blobs="a", parts=[1])
    received.record(first)
    assert (tmp_path / "received" / "mirror_shipment_0001.json").exists()
    other = shipment(1, blobs="a", parts=[1])
    other.parts = [Part("mirror_000001.tar", 2, "1" * 64)]
    assert Received(tmp_path / "received", store).has(first) and not Received(tmp_path / "received", store).has(other)


def test_received_records_an_earlier_skomirror_kept_in_the_store_are_honoured(tmp_path):
    store = Store(tmp_path / "store")
    old = store.root / "received"
    old.mkdir(parents=True)
    (old / "mirror_shipment_0001.json").write_text(shipment(1, blobs="a", parts=[1]).to_json())
    received = Received(tmp_path / "received", store)
    assert received.has(shipment(1, blobs="a", parts=[1])) and not received.has(shipment(2, blobs="a", parts=[2]))
    received.record(shipment(2, blobs="a", parts=[2]))
    assert sorted(path.name for path in (tmp_path / "received").iterdir()) == ["mirror_shipment_0001.json",
                                                                               "mirror_shipment_0002.json"]
