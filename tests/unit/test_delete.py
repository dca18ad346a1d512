"""The delete list's format and its checks, the protection of what the last mirror needs, the command line."""

import json

import pytest

from skomirror.cli import main
from skomirror.collectors.types import ImageKind
from skomirror.delete.listing import DeleteItem, list_text, read_list
from skomirror.delete.removal import _check_under, still_needed
from skomirror.errors import SkomirrorError
from skomirror.naming import RegistryDestination
from skomirror.workspace import Workspace

DIGEST = "sha256:" + "ab" * 32


def test_the_list_round_trips_in_oc_mirrors_format_with_digests():
    items = [DeleteItem("quay.io/a/b:1", "docker://m:5000/ns/a/b:1", ImageKind.OPERATOR_BUNDLE, DIGEST),
             DeleteItem("quay.io/a/a:1", "docker://m:5000/ns/a/a:1", ImageKind.RELEASE)]
    text = list_text(items)
    assert text.startswith("kind: DeleteImageList\napiVersion: mirror.openshift.io/v2alpha1\nitems:\n")
    assert "type: operatorBundle" in text and "type: ocpRelease" in text


def test_a_list_written_by_oc_mirror_reads_without_digests(tmp_path):
    path = tmp_path / "delete-images.yaml"
    path.write_text("apiVersion: mirror.openshift.io/v2alpha1\nkind: DeleteImageList\nitems:\n"
                    "- imageName: docker://quay.io/a/b:1\n  imageReference: docker://m:5000/ns/a/b:1\n"
                    "  type: generic\n")
    [item] = read_list(path)
    assert item.digest is None and item.kind is ImageKind.ADDITIONAL
    assert item.destination.repository == "m:5000/ns/a/b"


@pytest.mark.parametrize("body, message", [
    ("kind: Other\n", "kind: expected DeleteImageList"),
    ("kind: DeleteImageList\nitems: []\n", "items: expected a non-empty list"),
    ("kind: DeleteImageList\nitems: [3]\n", "items[0]: expected a mapping"),
    ("kind: DeleteImageList\nitems:\n- imageName: x\n", "items[0].imageReference: missing or not a string"),
    ("kind: DeleteImageList\nitems:\n- {imageName: x, imageReference: 'm:5000/a:1'}\n",
     "items[0].imageReference: 'm:5000/a:1': expected docker://"),
    ("kind: DeleteImageList\nitems:\n- {imageName: x, imageReference: 'docker://m/a:1', type: nope}\n",
     "items[0].type: unknown type 'nope'"),
    ("kind: DeleteImageList\nitems:\n- {imageName: x, imageReference: 'docker://m/a:1', digest: sha256:12}\n",
     "items[0].digest: expected sha256:<64 hex digits>"),
    ("kind: [\n", "not YAML"),
])
def test_a_malformed_list_is_one_line_naming_the_item(tmp_path, body, message):
    path = tmp_path / "list.yaml"
    path.write_text(body)
    with pytest.raises(SkomirrorError, match=None) as raised:
        read_list(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_list_for_another_registry_is_refused_before_anything_is_deleted():
    items = [DeleteItem("q/a:1", "docker://other:5000/ns/a:1", ImageKind.ADDITIONAL, DIGEST)]
    with pytest.raises(SkomirrorError, match="is not under DEST docker://m:5000/ns; nothing was deleted"):
        _check_under(items, RegistryDestination("m:5000", "ns"), "list.yaml")


def test_what_the_last_mirror_holds_is_needed_and_another_destination_protects_nothing(tmp_path):
    workspace = Workspace(tmp_path)
    workspace.results.write_text(json.dumps({"run": {"destination": "docker://m:5000/ns"}, "images": [
        {"destination": "m:5000/ns/a:1", "digest": DIGEST, "status": "copied"},
        {"destination": "m:5000/ns/b:1", "digest": DIGEST, "status": "failed"}]}))
    warnings = []
    assert still_needed(workspace, RegistryDestination("m:5000", "ns"), warnings.append) == {
        ("m:5000/ns/a", DIGEST): "m:5000/ns/a:1"}
    assert still_needed(workspace, RegistryDestination("m:5000", "other"), warnings.append) == {}
    assert "nothing is protected" in warnings[-1]
    workspace.results.write_text("{not json")
    with pytest.raises(SkomirrorError, match="unreadable, so what the last mirror needs is unknown"):
        still_needed(workspace, RegistryDestination("m:5000", "ns"), warnings.append)


@pytest.mark.parametrize("args, message", [
    (["docker://m/ns"], "give either --generate"),
    (["--generate", "docker://m/ns"], "--generate needs -c/--config"),
    (["--generate", "--delete-yaml-file", "x.yaml", "docker://m/ns"], "give either --generate"),
    (["--delete-yaml-file", "x.yaml", "-c", "d.yaml", "docker://m/ns"], "-c/--config is not used with it"),
])
def test_usage_errors_are_one_line(capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        main(["delete", *args])
    assert exited.value.code == 1
    assert message in capsys.readouterr().err
