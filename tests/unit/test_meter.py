from skomirror.records import ImageFacts, ImageRecord, Status
from skomirror.execution.meter import ByteMeter
from skomirror.records import Survey
from tests.unit.conftest import planned


def record(name: str, blobs: dict, tmp_path) -> ImageRecord:
    facts = ImageFacts(f"sha256:{name}", blobs, {f"m-{name}": 10})
    return ImageRecord(planned(f"src.io/{name}:1"), tmp_path / f"{name}.log", survey=Survey(source=facts))


def test_shared_blobs_count_once_and_live_bytes_never_go_back(tmp_path):
    a = record("a", {"base": 1000, "a1": 100}, tmp_path)
    b = record("b", {"base": 1000, "b1": 200}, tmp_path)
    read = {}
    meter = ByteMeter([a, b], lambda r: read.get(r.image.origin))
    assert meter.total == 1000 + 100 + 200 + 20  # the base once, plus each manifest
    meter.started(a)
    read[a.image.origin] = 600
    assert meter.value() == 600
    read[a.image.origin] = 50  # a retry: the new skopeo starts counting from zero
    assert meter.value() == 600
    read.pop(a.image.origin)
    a.status = Status.COPIED
    meter.finished(a)
    assert meter.value() == 1110
    meter.started(b)
    read[b.image.origin] = 5000  # b skips the base (there already): what it reads is capped at what it owes
    assert meter.value() == 1110 + 210


def test_a_failed_image_leaves_the_total_and_the_meter_moves_whole_images_without_proc(tmp_path):
    a = record("a", {"a1": 100}, tmp_path)
    b = record("b", {"b1": 300}, tmp_path)
    meter = ByteMeter([a, b], lambda r: None)
    meter.started(a)
    assert meter.value() == 0
    a.status = Status.FAILED
    meter.finished(a)
    assert meter.total == 310
    b.status = Status.COPIED
    meter.finished(b)
    assert meter.value() == meter.total == 310


def test_blobs_the_destination_repository_holds_are_not_in_the_total(tmp_path):
    a = record("a", {"base": 1000, "a1": 100}, tmp_path)
    b = record("b", {"base": 1000, "b1": 200}, tmp_path)
    repository = a.image.destination_repository
    assert repository != b.image.destination_repository
    only_a_has_it = ByteMeter([a, b], lambda r: None, {repository: {"base"}})
    assert only_a_has_it.total == 1000 + 100 + 200 + 20  # b's repository lacks the base: it is still to move
    both_have_it = ByteMeter([a, b], lambda r: None, {repository: {"base"}, b.image.destination_repository: {"base"}})
    assert both_have_it.total == 100 + 200 + 20
    a.status = b.status = Status.COPIED
    both_have_it.finished(a)
    both_have_it.finished(b)
    assert both_have_it.value() == both_have_it.total
