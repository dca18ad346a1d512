"""Choosing platforms of an index, the indexes that stand for them, and where they are kept."""

import json
from pathlib import Path

import pytest

from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import Where
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.endpoints.store import StoreEndpoint
from skomirror.imageref import ImageRef
from skomirror.manifests import Descriptor, digest_of, parse_manifest
from skomirror.naming import MirrorName, RegistryDestination
from skomirror.plan import make_plan
from skomirror.platforms import choose, normalize, platform_text, select
from skomirror.release.payload import Payload
from skomirror.skopeo.retry import SkopeoFailed
from skomirror.store import Store
from testkit.images import make_index, put_in_store, simple_image
from testkit.releases import boot_images_configmap


def children(*platforms):
    return [Descriptor(f"sha256:{index:064x}", 10, "", platform) for index, platform in enumerate(platforms, 1)]


@pytest.mark.parametrize("wanted, offered, kept", [
    (["linux/amd64"], ["linux/amd64", "linux/arm64"], ["linux/amd64"]),
    (["linux/x86_64"], ["linux/amd64", "linux/arm64"], ["linux/amd64"]),  # people write uname's names
    (["linux/arm64"], ["linux/amd64", "linux/arm64/v8"], ["linux/arm64/v8"]),  # v8 is arm64's default
    (["linux/arm64/v8"], ["linux/arm64"], ["linux/arm64"]),
    (["linux/arm"], ["linux/arm/v6", "linux/arm/v7"], ["linux/arm/v7"]),  # the default variant fits best
    (["linux/arm/v6"], ["linux/arm/v6", "linux/arm/v7"], ["linux/arm/v6"]),
    (["linux/amd64", "linux/s390x"], ["linux/amd64", "linux/arm64"], ["linux/amd64"]),
    (["windows/amd64"], ["linux/amd64"], []),
])
def test_each_wanted_platform_keeps_its_best_fitting_child(wanted, offered, kept):
    chosen, missing = choose(children(*offered), wanted)
    assert [child.platform for child in chosen] == kept
    assert len(missing) == len(wanted) - len(kept)


def test_platform_text_defaults_the_os_and_normalises_the_architecture():
    assert platform_text(None, "aarch64") == "linux/arm64"
    assert platform_text("linux", "arm64", "v8") == "linux/arm64/v8"
    assert normalize("linux/x86_64") == "linux/amd64"


def two_platforms():
    index = make_index([simple_image("app", (100,), architecture="amd64"),
                        simple_image("app", (200,), architecture="arm64")])
    return index, parse_manifest(index.manifest.data)


def test_a_selection_keeps_the_source_index_and_a_rewritten_one_of_the_platforms_kept():
    index, manifest = two_platforms()
    selection = select(manifest, index.manifest.data, ["linux/amd64"], "q.io/a/app:1")
    assert selection.index == index.manifest.data and selection.index_digest == index.digest
    assert selection.kept == (index.images[0].digest,) and selection.dropped == ("linux/arm64",)
    rewritten = json.loads(selection.rewritten)
    assert [entry["digest"] for entry in rewritten["manifests"]] == [index.images[0].digest]
    assert rewritten["mediaType"] == json.loads(index.manifest.data)["mediaType"]
    assert selection.rewritten_digest == digest_of(selection.rewritten)
    assert select(manifest, index.manifest.data, ["linux/amd64"], "x").rewritten == selection.rewritten  # stable


def test_wanting_every_platform_needs_no_selection_and_wanting_none_of_them_names_the_image():
    index, manifest = two_platforms()
    assert select(manifest, index.manifest.data, ["linux/arm64", "linux/amd64"], "x") is None
    with pytest.raises(ValueError, match=r"q.io/a/app:1 has none of the platforms linux/ppc64le "
                                         r"\(it has linux/amd64, linux/arm64\)"):
        select(manifest, index.manifest.data, ["linux/ppc64le"], "q.io/a/app:1")


def test_a_store_layout_lists_the_platforms_copied_and_its_facts_need_only_those(tmp_path):
    store = Store(tmp_path).prepare()
    index, manifest = two_platforms()
    amd64 = index.images[0]
    name = MirrorName("apps/app", "1")
    for blob in amd64.blobs:
        store.put_blob(blob.data)
    store.put_blob(amd64.manifest.data)
    kept = [child for child in manifest.children if child.digest == amd64.digest]
    assert store.tag(name, index.manifest.data, manifest.media_type, kept) == index.digest
    assert store.listed_children(name) == {amd64.digest}
    facts = store.facts(index.digest, name)
    assert facts.selection.kept == (amd64.digest,)
    assert set(facts.blobs) == {blob.digest for blob in amd64.blobs}
    assert set(facts.manifests) == {index.digest, amd64.digest}
    assert store.holds_platforms(name, index.digest, ("linux/amd64",))
    assert not store.holds_platforms(name, index.digest, ())  # all platforms are wanted now: copy again
    assert not store.holds_platforms(name, index.digest, ("linux/arm64",))
    assert store.child_spec(name, amd64.digest).endswith(f":sha256-{amd64.digest.split(':')[1]}")


def test_a_layout_copied_whole_later_is_whole_again(tmp_path):
    store = Store(tmp_path).prepare()
    index, manifest = two_platforms()
    name = MirrorName("apps/app", "1")
    store.tag(name, index.manifest.data, manifest.media_type, manifest.children[:1])
    put_in_store(store, name, index)  # as a copy of every platform leaves it: the tag's entry replaced
    assert store.listed_children(name) is None
    assert len(store.facts(index.digest, name).manifests) == 3


def collected(name, platforms, line=1):
    return CollectedImage(ImageRef.parse(name), name, ImageKind.ADDITIONAL, Where("isc.yaml", line, "x"),
                          platforms=platforms)


def test_one_image_wanted_with_two_platform_lists_gets_both_and_all_wins():
    source, target = RegistryEndpoint(), RegistryEndpoint(RegistryDestination("mirror:5000"))
    plan = make_plan([collected("q.io/a/b:1", ("linux/amd64",)), collected("q.io/a/b:1", ("linux/arm64",), 2)],
                     source, target)
    assert [image.platforms for image in plan.images] == [("linux/amd64", "linux/arm64")]
    plan = make_plan([collected("q.io/a/b:1", ("linux/amd64",)), collected("q.io/a/b:1", (), 2)], source, target)
    assert [image.platforms for image in plan.images] == [()]


class FakeClient:
    def __init__(self, answers):
        self.answers, self.bodies = list(answers), []

    def put_manifest(self, registry, repository, reference, body, media_type):
        self.bodies.append((registry, repository, reference, body))
        return self.answers.pop(0)


def put_index(tmp_path, source_name, answers):
    index, manifest = two_platforms()
    selection = select(manifest, index.manifest.data, ["linux/amd64"], source_name)
    endpoint = RegistryEndpoint(RegistryDestination("mirror:5000", "ns"))
    image = make_plan([collected(source_name, ("linux/amd64",))], RegistryEndpoint(), endpoint).images[0]
    client = FakeClient(answers)
    runner = type("Runner", (), {"client": client})()
    return selection, client, lambda: endpoint.put_index(image, selection, runner, tmp_path / "log")


def test_the_source_index_is_put_as_it_is_where_the_registry_takes_it(tmp_path):
    selection, client, put = put_index(tmp_path, "q.io/a/app:1", [(201, "")])
    assert put() == selection.index_digest
    assert client.bodies == [("mirror:5000", "ns/a/app", "1", selection.index)]


def test_a_tag_gets_the_rewritten_index_where_a_sparse_one_is_refused(tmp_path):
    selection, client, put = put_index(tmp_path, "q.io/a/app:1",
                                       [(400, "MANIFEST_BLOB_UNKNOWN: blob unknown to registry"), (201, "")])
    assert put() == selection.rewritten_digest
    assert [body for *_, body in client.bodies] == [selection.index, selection.rewritten]
    assert "refuses a sparse index" in Path(tmp_path / "log").read_text()


def test_a_digest_pin_is_refused_rather_than_changed(tmp_path):
    pinned = "q.io/a/app@sha256:" + "1" * 64
    _, client, put = put_index(tmp_path, pinned, [(400, "MANIFEST_BLOB_UNKNOWN: blob unknown to registry")])
    with pytest.raises(SkopeoFailed, match="refuses a sparse index .* pulled by digest"):
        put()
    assert len(client.bodies) == 1


def test_other_refusals_are_classified_by_the_failure_table(tmp_path):
    _, _, put = put_index(tmp_path, "q.io/a/app:1", [(503, "UNAVAILABLE: try later")])
    with pytest.raises(SkopeoFailed) as raised:
        put()
    assert raised.value.failure.retryable


def test_a_store_target_keeps_the_sparse_index_with_its_digest(tmp_path):
    store = Store(tmp_path).prepare()
    index, manifest = two_platforms()
    selection = select(manifest, index.manifest.data, ["linux/arm64"], "q.io/a/app:1")
    image = make_plan([collected("q.io/a/app:1", ("linux/arm64",))], RegistryEndpoint(),
                      StoreEndpoint(store)).images[0]
    assert StoreEndpoint(store).put_index(image, selection, None, tmp_path / "log") == index.digest
    assert store.listed_children(image.name) == {index.images[1].digest}


def payload_with(boot_images, architecture="amd64"):
    return Payload("4.18.1", architecture, [], boot_images)


def test_the_kubevirt_image_is_read_from_the_boot_images_configmap():
    ref = "q.io/art@sha256:" + "a" * 64
    found, why_not = payload_with(boot_images_configmap({"x86_64": ref})).kubevirt_components()
    assert [(c.name, c.image) for c in found] == [("kube-virt-container", ref)] and why_not == ""
    multi = payload_with(boot_images_configmap({"x86_64": ref, "s390x": ref.replace("a", "b")}), "multi")
    assert [c.name for c in multi.kubevirt_components()[0]] == ["kube-virt-container-amd64",
                                                                "kube-virt-container-s390x"]
    assert "names no kubevirt image for arm64" in payload_with(boot_images_configmap({"x86_64": ref}),
                                                               "arm64").kubevirt_components()[1]
    assert "unreadable" in payload_with(b"data: [").kubevirt_components()[1]
    assert "no release-manifests/0000_50_installer_coreos-bootimages.yaml" in \
        payload_with(None).kubevirt_components()[1]
