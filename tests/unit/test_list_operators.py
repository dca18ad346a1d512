"""`skomirror list operators`: the text and JSON of each listing on a catalog written here, bad input as one
line, and an unreachable catalog (fake skopeo) as exit code 4."""


import pytest

from skomirror.catalog.fbc import Catalog, add_object
from skomirror.cli import main
from skomirror.collectors.operators import OperatorCollectionError
from skomirror import engine
from skomirror.commands.list_operators import PulledCatalog, bundles_listing, channels_listing, packages_listing
from skomirror.commands.printing import columns
from skomirror.errors import EXIT_OPERATOR
from skomirror.skopeo.processes import tie_prefix
from testkit.catalogs import fbc_documents
from tests.unit.conftest import FAKE_SKOPEO
from tests.unit.test_catalog_filter import SPEC

DIGEST = "sha256:" + "a" * 64
TWO_HEADS = {"qux": {"default": "main", "channels": {"main": [("qux.v1.0.0", None, []), ("qux.v2.0.0", None, [])]}}}


def pulled(spec=SPEC) -> PulledCatalog:
    catalog = Catalog()
    for document in fbc_documents(spec):
        if document["schema"] == "olm.bundle" and document["name"] in ("foo.v3.0.0-rc1", "foo.v1.0.0"):
            name = "Foo Operator" if document["name"] == "foo.v3.0.0-rc1" else "Old Foo"
            document["properties"].append({"type": "olm.csv.metadata", "value": {"displayName": name}})
        add_object(catalog, document, "test")
    return PulledCatalog("registry.test/cat:v1", DIGEST, catalog)


def test_packages_with_display_name_and_default_channel():
    document, lines = packages_listing(pulled())
    assert lines == ["NAME  DISPLAY NAME  DEFAULT CHANNEL",
                     "bar                 alpha",
                     "baz                 main",
                     "foo   Foo Operator  stable"]  # the highest bundle's CSV name, as oc-mirror
    assert document == {"catalog": "registry.test/cat:v1", "digest": DIGEST, "packages": [
        {"name": "bar", "displayName": "", "defaultChannel": "alpha"},
        {"name": "baz", "displayName": "", "defaultChannel": "main"},
        {"name": "foo", "displayName": "Foo Operator", "defaultChannel": "stable"}]}


def test_a_package_s_channels_with_their_heads():
    document, lines = channels_listing(pulled(), "foo")
    assert lines == ["NAME  DISPLAY NAME  DEFAULT CHANNEL", "foo   Foo Operator  stable", "",
                     "PACKAGE  CHANNEL  HEAD",
                     "foo      beta     foo.v3.0.0-rc1",
                     "foo      legacy   foo.v1.0.0",
                     "foo      stable   foo.v2.1.0"]
    assert document["package"]["channels"] == [{"name": "beta", "head": "foo.v3.0.0-rc1"},
                                               {"name": "legacy", "head": "foo.v1.0.0"},
                                               {"name": "stable", "head": "foo.v2.1.0"}]


def test_a_channel_without_a_single_head_says_so_in_its_row():
    document, lines = channels_listing(pulled(TWO_HEADS), "qux")
    assert lines[-1] == "qux      main     ERROR: package qux: channel main: multiple channel heads: qux.v1.0.0, " \
                        "qux.v2.0.0"
    assert document["package"]["channels"] == [{"name": "main", "head": None, "error": "package qux: channel main: "
                                                "multiple channel heads: qux.v1.0.0, qux.v2.0.0"}]


def test_a_channel_s_bundle_versions_lowest_first():
    document, lines = bundles_listing(pulled(), "foo", "stable")
    assert lines == ["VERSIONS", "1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0", "2.1.0"]
    assert document["head"] == "foo.v2.1.0" and document["channel"] == "stable" and document["package"] == "foo"
    assert document["bundles"][-1] == {"name": "foo.v2.1.0", "version": "2.1.0", "image": "quay.io/test/foo.v2.1.0:1"}


@pytest.mark.parametrize("call, message", [
    (lambda p: channels_listing(p, "nope"), "catalog registry.test/cat:v1 has no package 'nope' (skomirror list "
                                            "operators --catalog registry.test/cat:v1 lists its packages)"),
    (lambda p: bundles_listing(p, "foo", "fast"), "catalog registry.test/cat:v1: package 'foo' has no channel "
                                                  "'fast'; its channels: beta, legacy, stable"),
])
def test_an_unknown_package_or_channel_is_exit_code_4(call, message):
    with pytest.raises(OperatorCollectionError) as raised:
        call(pulled())
    assert (str(raised.value), raised.value.exit_code) == (message, EXIT_OPERATOR)


def test_columns_align_like_a_tabwriter_and_never_pad_the_last_column():
    assert columns([("A", "BB", "C"), ("long", "", "x"), ("s", "y", "")]) == ["A     BB  C", "long      x", "s     y"]
    assert columns([]) == []


def run(capsys, *args):
    with pytest.raises(SystemExit) as exited:
        main(["list", "operators", *args])
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


@pytest.mark.parametrize("args, message", [
    (["--package", "foo"], "Missing option '--catalog'. (see 'skomirror list operators --help')"),
    (["--catalog", "registry.test/cat:v1", "--channel", "stable"],
     "--channel needs --package (and --catalog) (see 'skomirror list operators --help')"),
    (["--catalog", "oci:///data/catalog"], "Invalid value for '--catalog': list operators reads catalogs from "
                                           "registries; for an oci:// layout, push it to a registry first (see "
                                           "'skomirror list operators --help')"),
    (["--catalog", "Registry.test/Cat:v1"], "Invalid value for '--catalog': invalid repository path component 'Cat' "
                                            "(lowercase letters, digits, and . _ - separators) (see 'skomirror list "
                                            "operators --help')"),
    (["--catalog", "registry.test/cat:v1", "--package", ""],
     "Invalid value for '--package': the name is empty (see 'skomirror list operators --help')"),
])
def test_bad_input_is_one_line_and_exit_code_1_before_anything_is_pulled(capsys, tmp_path, monkeypatch, args,
                                                                         message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *args)
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"skomirror: error: {message}"]
    assert list(tmp_path.iterdir()) == []  # no workspace made


def test_an_unreachable_catalog_is_one_line_and_exit_code_4(capsys, tmp_path, fake_process, old_skopeo, monkeypatch):
    monkeypatch.setattr(engine.Skopeo, "locate", classmethod(lambda cls, binary="skopeo", conf=None: old_skopeo))
    refused = 'time="2026-01-01T00:00:00Z" level=fatal msg="pinging container registry 127.0.0.1:1: Get ' \
              '\\"https://127.0.0.1:1/v2/\\": dial tcp 127.0.0.1:1: connect: connection refused"\n'
    fake_process.register((tie_prefix() or []) + [FAKE_SKOPEO, fake_process.any()], stderr=refused, returncode=1,
                          occurrences=10)
    code, out, err = run(capsys, "--catalog", "127.0.0.1:1/redhat/index:v4.15", "--retry-times", "0",
                         "--workspace", str(tmp_path / "ws"))
    assert (code, out) == (4, "")
    errors = [line for line in err.splitlines() if "error" in line]
    assert errors == ["skomirror: error: catalog 127.0.0.1:1/redhat/index:v4.15 cannot be pulled: connection "
                      "refused: pinging container registry 127.0.0.1:1: Get \"https://127.0.0.1:1/v2/\": dial tcp "
                      "127.0.0.1:1: connect: connection refused"]
    assert "Traceback" not in err
    (log,) = (tmp_path / "ws" / "logs").rglob("fetch-*.log")
    assert "connection refused" in log.read_text()
