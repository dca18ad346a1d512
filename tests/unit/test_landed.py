"""What landed is what is recorded: a record's facts follow the digest copied, and a store reads no path out."""

import json
from pathlib import Path

import pytest

from skomirror.manifests import ManifestError, parse_manifest
from skomirror.naming import MirrorName
from skomirror.records import ImageFacts, ImageRecord, Status, Survey
from skomirror.store import Store

OLD, NEW = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def record_with(digest=None, copied=None) -> ImageRecord:
    survey = Survey(source=ImageFacts(OLD, {"sha256:" + "a" * 64: 10}, {OLD: 5}), source_digest=OLD)
    return ImageRecord("image", Path("log"), survey, Status.COPIED, digest, copied=copied)


def test_the_survey_counts_only_while_it_saw_the_digest_that_was_copied():
    assert record_with(OLD).landed.digest == OLD
    assert record_with(None).landed.digest == OLD  # not copied yet: the survey is all there is
    assert record_with(NEW).landed is None  # the tag moved after the survey: the survey's blobs are not it
    copied = ImageFacts(NEW, {"sha256:" + "b" * 64: 20}, {NEW: 7})
    assert record_with(NEW, copied).landed is copied and record_with(NEW, copied).size == 27
    assert record_with(OLD).size == 15


@pytest.mark.parametrize("manifest, problem", [
    ({"layers": [{"digest": "sha256:../../../etc/passwd", "size": 1}]}, "invalid digest"),
    ({"config": {"digest": "sha256:" + "a" * 64, "size": "12"}}, "not a byte count"),
    ({"layers": 5}, "not a list"),
    ({"mediaType": {"a": 1}}, "not a string"),
    ({"schemaVersion": 1, "fsLayers": [{"nothing": 1}]}, "blobSum"),
    ({"manifests": [{"digest": "../x"}]}, "invalid digest"),
])
def test_a_hostile_manifest_is_a_manifest_error(manifest, problem):
    with pytest.raises(ManifestError, match=problem):
        parse_manifest(json.dumps(manifest).encode())


@pytest.mark.parametrize("index", [[], {"manifests": {"a": 1}}, {"manifests": ["x"]},
                                   {"manifests": [{"annotations": [], "digest": OLD}]},
                                   {"manifests": [{"annotations": {"org.opencontainers.image.ref.name": "1"},
                                                   "digest": "sha256:../../outside"}]}])
def test_a_damaged_layout_index_holds_nothing(tmp_path, index):
    store = Store(tmp_path / "store").prepare()
    name = MirrorName("apps/a", "1")
    store.layout(name).mkdir(parents=True)
    (store.layout(name) / "index.json").write_text(json.dumps(index))
    (store.root / "outside").write_text("{}")  # where blobs/sha256/../../outside leads
    assert store.tagged_digest(name) is None
