"""`skomirror list` end to end: releases from the stub update service over HTTP."""

import json

import pytest

from testkit.updateservice import UpdateServiceStub, graph_document
from tests.integration.conftest import skomirror_command

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
