"""`skomirror list` end to end: releases from the stub update service over HTTP, operators from a generated
catalog pushed to a real registry and pulled with real skopeo."""

import json
import socket

import pytest

from testkit.catalogs import seed_catalog
from testkit.updateservice import UpdateServiceStub, graph_document
from tests.integration.conftest import skomirror_command, skopeo_digest
from tests.unit.test_catalog_filter import SPEC

PAYLOAD = "quay.example/openshift-release-dev/ocp-release@sha256:{}"


@pytest.fixture
def update_service():
    minor_14 = [("4.14.9", PAYLOAD.format("1" * 64))]
    minor_15 = [("4.15.0", PAYLOAD.format("2" * 64)), ("4.15.2", PAYLOAD.format("3" * 64))]
    stable = graph_document(minor_14, [], "stable-4.14,stable-4.15,eus-4.14")
    newer = graph_document(minor_15, [("4.15.0", "4.15.2")], "candidate-4.15,fast-4.15,stable-4.15")
    document = dict(stable, nodes=stable["nodes"] + newer["nodes"], edges=[[0, 1], [1, 2]])
    with UpdateServiceStub({("stable-4.15", "amd64"): document, ("stable-4.15", "arm64"): document}) as stub:
        yield stub


def test_list_releases_of_a_channel_and_the_channels_of_a_version(tmp_path, update_service):
    env = {"UPDATE_URL_OVERRIDE": update_service.url}  # as oc-mirror, the variable alone is enough
    listed = skomirror_command("list", "releases", "--channel", "stable-4.15", "--filter-by-archs", "amd64,arm64",
                               cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    block = ["Architecture: {}", "4.14.9", "4.15.0", "4.15.2"]
    assert listed.stdout.splitlines() == ["Channel: stable-4.15"] + [block[0].format("amd64")] + block[1:] + \
        ["", "Channel: stable-4.15", block[0].format("arm64")] + block[1:]
    asked = [request for request in update_service.requests if "channel=stable-4.15" in request]
    assert len(asked) == 2 and any("arch=arm64" in request for request in asked)

    as_json = json.loads(skomirror_command("list", "releases", "--version", "4.15", "-o", "json", cwd=tmp_path,
                                           env=env).stdout)
    assert as_json["channel"] == "stable-4.15"
    assert as_json["architectures"][0]["head"] == "4.15.2"
    assert [release["version"] for release in as_json["architectures"][0]["releases"]] == \
        ["4.14.9", "4.15.0", "4.15.2"]
    assert as_json["architectures"][0]["releases"][2]["payload"] == PAYLOAD.format("3" * 64)

    only = skomirror_command("list", "releases", "--channel", "stable-4.15", "--version", "4.15", cwd=tmp_path,
                             env=env)
    assert only.stdout.splitlines()[2:] == ["4.15.0", "4.15.2"]

    channels = skomirror_command("list", "releases", "--channels", "--version", "4.15", cwd=tmp_path, env=env)
    assert channels.returncode == 0, channels.stderr
    assert channels.stdout.splitlines() == ["Listing channels for version 4.15:", "", "candidate-4.15", "fast-4.15",
                                            "stable-4.15"]  # not eus-4.14: no 4.15 release is in it

    unknown = skomirror_command("list", "releases", "--channel", "stable-9.9", cwd=tmp_path, env=env)
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.splitlines() == [f"skomirror: error: channel 'stable-9.9' (amd64) has no releases at "
                                           f"{update_service.url}/api/upgrades_info/v1/graph; is the channel name "
                                           "right?"]


def operators(tmp_path, *args):
    return skomirror_command("list", "operators", "--src-tls-verify=false", "--workspace", str(tmp_path / "ws"),
                             "--retry-times", "0", *args, cwd=tmp_path)


def test_list_operators_pulls_the_catalog_once_and_lists_packages_channels_and_versions(tmp_path, source):
    seeded = seed_catalog(source, SPEC)
    packages = operators(tmp_path, "--catalog", seeded.reference)
    assert packages.returncode == 0, packages.stderr
    assert packages.stdout.splitlines() == ["NAME  DISPLAY NAME  DEFAULT CHANNEL", "bar                 alpha",
                                            "baz                 main", "foo                 stable"]
    pulls = [log for log in (tmp_path / "ws" / "logs").rglob("fetch-*.log")]
    assert len(pulls) == 1 and "copy attempt 1" in pulls[0].read_text()

    channels = operators(tmp_path, "--catalog", seeded.reference, "--package", "foo")
    assert channels.returncode == 0, channels.stderr
    assert channels.stdout.splitlines() == [
        "NAME  DISPLAY NAME  DEFAULT CHANNEL", "foo                 stable", "",
        "PACKAGE  CHANNEL  HEAD", "foo      beta     foo.v3.0.0-rc1", "foo      legacy   foo.v1.0.0",
        "foo      stable   foo.v2.1.0"]
    (second,) = set((tmp_path / "ws" / "logs").rglob("fetch-*.log")) - set(pulls)
    assert "copy attempt" not in second.read_text()  # already in the workspace: checked, not pulled again

    versions = operators(tmp_path, "--catalog", seeded.reference, "--package", "foo", "--channel", "stable",
                         "--output", "json")
    assert versions.returncode == 0, versions.stderr
    listed = json.loads(versions.stdout)
    assert listed["digest"] == skopeo_digest(seeded.reference)
    assert listed["head"] == "foo.v2.1.0"
    assert [(b["name"], b["version"]) for b in listed["bundles"]] == [
        ("foo.v1.0.0", "1.0.0"), ("foo.v1.1.0", "1.1.0"), ("foo.v1.2.0", "1.2.0"), ("foo.v1.3.0", "1.3.0"),
        ("foo.v2.0.0", "2.0.0"), ("foo.v2.1.0", "2.1.0")]
    assert listed["bundles"][0]["image"] == seeded.bundles["foo.v1.0.0"]

    missing = operators(tmp_path, "--catalog", seeded.reference, "--package", "foo", "--channel", "fast")
    assert missing.returncode == 4 and missing.stdout == ""
    assert missing.stderr.splitlines()[-1] == (f"skomirror: error: catalog {seeded.reference}: package 'foo' has "
                                               "no channel 'fast'; its channels: beta, legacy, stable")


def test_an_unreachable_catalog_is_one_line_and_exit_code_4(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = operators(tmp_path, "--catalog", f"127.0.0.1:{port}/redhat/redhat-operator-index:v4.15")
    assert result.returncode == 4, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("skomirror: error:")]
    assert len(errors) == 1 and f"catalog 127.0.0.1:{port}/redhat/redhat-operator-index:v4.15 cannot be pulled: " \
        in errors[0] and "connection refused" in errors[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
