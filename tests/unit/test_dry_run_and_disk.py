"""The dry run's byte total and the images a disk to mirror run pushes."""

from skomirror.airgap.receiving import shipment_images
from skomirror.reports import total_size
from skomirror.airgap.shipments import Shipment
from tests.unit.test_meter import record


def test_dry_run_total_counts_a_shared_blob_once_as_the_run_does(tmp_path):
    a = record("a", {"base": 1000, "a1": 100}, tmp_path)
    b = record("b", {"base": 1000, "b1": 200}, tmp_path)
    assert total_size([a, b]) == 1000 + 100 + 200 + 20
    assert total_size([a, record("c", {"c1": None}, tmp_path)]) is None  # a schema 1 size is unknown
    assert total_size([]) == 0


def test_the_newest_shipment_wins_and_images_keep_their_first_place():
    def entry(name: str, origin: str) -> dict:
        return {"name": name, "source": f"src.io/{name}", "origin": origin}

    first = Shipment(1, "2026-01-01T00:00:00Z", [], [], [entry("a:1", "old"), entry("b:1", "b")])
    second = Shipment(2, "2026-01-02T00:00:00Z", [], [], [entry("a:1", "new")])
    images = shipment_images([first, second])
    assert [(image.target_repo, image.target_tag, image.origin) for image in images] == \
        [("a", "1", "new"), ("b", "1", "b")]
    assert str(images[0].where) == f"{second.manifest_name}:0: images[0]"
