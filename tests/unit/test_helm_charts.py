"""Chart repositories' indexes, chart archives and their OCI artifacts, values merging: pure, no network."""

import json

import pytest
import yaml

from skomirror.collectors.helm import _repository_path
from skomirror.helm.charts import (HELM_CHART_LAYER, HELM_CONFIG, ChartProblem, archive_metadata, chart_archive,
                                   every_chart, index_url, oci_tag, parse_index, pick_version, put_chart)
from skomirror.helm.engine import merge_values
from skomirror.naming import MirrorName
from skomirror.store import Store
from testkit.helmcharts import chart_archive as make_archive
from testkit.helmcharts import webapp_chart

INDEX = yaml.safe_dump({"apiVersion": "v1", "entries": {
    "web": [{"version": "1.3.0-rc.1", "urls": ["web-1.3.0-rc.1.tgz"]}, {"version": "1.2.0", "urls": ["web-1.2.0.tgz"]},
            {"version": "1.10.0", "urls": ["https://cdn.example.com/web-1.10.0.tgz"]}, {"version": "1.9.0"}],
    "common": [{"version": "2.0.0", "type": "library", "urls": ["common-2.0.0.tgz"]}],
    "beta": [{"version": "0.1.0-alpha", "urls": ["beta.tgz"]}]}}).encode()


@pytest.mark.parametrize("name, version, expected", [
    ("web", None, "1.10.0"),  # the newest by semver, not by index order, and not a prerelease
    ("web", "1.2.0", "1.2.0"),
    ("web", "v1.2", "1.2.0"),  # the same version, written leniently
    ("web", "1.3.0-rc.1", "1.3.0-rc.1"),  # a prerelease when asked for by name
])
def test_the_version_helm_would_download(name, version, expected):
    assert pick_version(parse_index(INDEX, "index.yaml"), name, version, "index.yaml").version == expected


@pytest.mark.parametrize("name, version, problem", [
    ("nope", None, "chart 'nope' is not in the repository index"),
    ("web", "2.0.0", "chart 'web' has no version '2.0.0' in the repository (it has 1.3.0-rc.1, 1.2.0, 1.10.0"),
    ("beta", None, "chart 'beta' has no released version (only prereleases); write a version"),
])
def test_a_version_that_is_not_there_is_named(name, version, problem):
    with pytest.raises(ChartProblem, match=problem.replace("(", r"\(").replace(")", r"\)")):
        pick_version(parse_index(INDEX, "index.yaml"), name, version, "index.yaml")


def test_no_charts_listed_means_every_version_of_every_chart_but_libraries():
    versions = [(entry.name, entry.version) for entry in every_chart(parse_index(INDEX, "index.yaml"))]
    assert versions == [("beta", "0.1.0-alpha"), ("web", "1.3.0-rc.1"), ("web", "1.2.0"), ("web", "1.10.0"),
                        ("web", "1.9.0")]


@pytest.mark.parametrize("text, problem", [(b"entries: [", "not a chart repository index: "),
                                           (b"apiVersion: v1\n", "not a chart repository index \\(no entries\\)")])
def test_what_is_not_an_index_is_refused(text, problem):
    with pytest.raises(ChartProblem, match="repo/index.yaml: " + problem):
        parse_index(text, "repo/index.yaml")


def test_index_urls_and_tags_as_helm_writes_them():
    assert index_url("https://charts.example.com/stable/") == "https://charts.example.com/stable/index.yaml"
    assert index_url("https://x.example.com/index.yaml") == "https://x.example.com/index.yaml"
    assert oci_tag("1.2.3+build.4") == "1.2.3_build.4"
    assert _repository_path("https://charts.example.com/Stable Charts//v1/") == "stable-charts/v1"
    assert _repository_path("https://charts.openshift.io") == ""


def test_a_chart_archive_is_read_without_unpacking_and_packed_as_helm_push_packs_it(tmp_path):
    archive = webapp_chart("quay.io")
    metadata = archive_metadata(archive, "webapp.tgz")
    assert (metadata["name"], metadata["version"], metadata["appVersion"]) == ("webapp", "0.1.0", "3.1")
    store = Store(tmp_path / "store").prepare()
    digest = put_chart(store, MirrorName("charts/webapp", "0.1.0"), archive, metadata)
    manifest = json.loads(store.read_blob(digest))
    assert manifest["config"]["mediaType"] == HELM_CONFIG
    assert json.loads(store.read_blob(manifest["config"]["digest"]))["name"] == "webapp"
    assert [layer["mediaType"] for layer in manifest["layers"]] == [HELM_CHART_LAYER]
    assert manifest["annotations"]["org.opencontainers.image.version"] == "0.1.0"
    assert store.tagged_digest(MirrorName("charts/webapp", "0.1.0")) == digest
    assert chart_archive(store, digest, "oci://x/webapp:0.1.0") == archive
    assert put_chart(store, MirrorName("charts/webapp", "0.1.0"), archive, metadata) == digest  # reproducible


def test_an_image_is_not_a_chart(tmp_path):
    store = Store(tmp_path / "store").prepare()
    digest = store.put_blob(json.dumps({"schemaVersion": 2, "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json"}, "layers": []}).encode())
    with pytest.raises(ChartProblem, match="oci://x/y:1: not a Helm chart \\(its config media type is "
                                           "'application/vnd.oci.image.config.v1\\+json'"):
        chart_archive(store, digest, "oci://x/y:1")


@pytest.mark.parametrize("data", [b"not a tar", make_archive("x", "1.0.0", {})[:40]])
def test_what_is_not_a_chart_archive_is_refused(data):
    with pytest.raises(ChartProblem, match="x.tgz: not a chart archive"):
        archive_metadata(data, "x.tgz")


def test_values_merge_as_helm_merges_values_files():
    first = {"image": {"repository": "a/web", "tag": "1"}, "replicas": 1, "list": [1, 2]}
    second = {"image": {"tag": "2"}, "list": [3], "extra": {"on": True}}
    assert merge_values(first, second) == {"image": {"repository": "a/web", "tag": "2"}, "replicas": 1, "list": [3],
                                           "extra": {"on": True}}
    assert merge_values({"image": {"tag": "1"}}, {"image": "quay.io/a:1"}) == {"image": "quay.io/a:1"}
    assert first["image"]["tag"] == "1"  # the inputs are left alone
