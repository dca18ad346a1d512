"""`skomirror list releases` against the stub update service: its text and JSON, and bad input as one line."""

import json

import pytest

from skomirror.catalog.semver import Version
from skomirror.cli import main
from skomirror.commands.list_releases import VersionType
from skomirror.release.cincinnati import ReleaseCollectionError, parse_graph
from testkit.updateservice import UpdateServiceStub, graph_document

PAYLOAD = "quay.example/openshift-release-dev/ocp-release@sha256:{}"


def graph() -> dict:
    """stable-4.15 as the service answers it: the 4.14 release it upgrades from, then the 4.15 ones."""
    old = graph_document([("4.14.9", PAYLOAD.format("1" * 64))], [], "eus-4.14,stable-4.14,stable-4.15")
    new = graph_document([("4.15.0-rc.1", PAYLOAD.format("0" * 64)), ("4.15.0", PAYLOAD.format("2" * 64)),
                          ("4.15.2", PAYLOAD.format("3" * 64))], [], "fast-4.15,stable-4.15")
    new["nodes"][0]["metadata"]["io.openshift.upgrades.graph.release.channels"] = "candidate-4.15"
    return {"version": 1, "nodes": old["nodes"] + new["nodes"], "edges": [[0, 2], [2, 3]]}


@pytest.fixture(scope="module")
def service():
    with UpdateServiceStub({("stable-4.15", "amd64"): graph(), ("stable-4.15", "s390x"): graph()}) as stub:
        yield stub


def run(capsys, *args):
    with pytest.raises(SystemExit) as exited:
        main(["list", "releases", *args])
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def test_a_channel_is_listed_as_oc_mirror_lists_it(capsys, service):
    code, out, err = run(capsys, "--update-url", service.url, "--channel", "stable-4.15")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["Channel: stable-4.15", "Architecture: amd64", "4.14.9", "4.15.0-rc.1", "4.15.0",
                                "4.15.2"]


def test_version_alone_lists_stable_x_y_with_oc_mirror_s_hint_and_each_architecture(capsys, service):
    code, out, _ = run(capsys, "--update-url", service.url, "--version", "4.15", "--filter-by-archs", "amd64,s390x")
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == ["Listing stable channels. Use --channel=<name> to filter.",
                         "Use skomirror list releases --channels --version=4.15 to discover other channels.", ""]
    assert lines[3:5] == ["Channel: stable-4.15", "Architecture: amd64"] and "4.14.9" in lines[5:9]
    assert lines[9:12] == ["", "Channel: stable-4.15", "Architecture: s390x"]


def test_a_version_with_a_channel_keeps_only_that_version(capsys, service):
    _, minor, _ = run(capsys, "--update-url", service.url, "--channel", "stable-4.15", "--version", "4.15")
    assert minor.splitlines()[2:] == ["4.15.0-rc.1", "4.15.0", "4.15.2"]
    _, exact, _ = run(capsys, "--update-url", service.url, "--version", "4.15.0")
    assert exact.splitlines()[-1:] == ["4.15.0"] and "4.15.0-rc.1" not in exact


def test_json_gives_every_release_with_its_payload_and_the_head(capsys, service):
    code, out, _ = run(capsys, "--update-url", service.url, "--channel", "stable-4.15", "--output", "json")
    document = json.loads(out)
    assert code == 0
    assert document["channel"] == "stable-4.15" and document["version"] is None
    (amd64,) = document["architectures"]
    assert amd64["architecture"] == "amd64" and amd64["head"] == "4.15.2"
    assert amd64["releases"][0] == {"version": "4.14.9", "payload": PAYLOAD.format("1" * 64)}
    assert [release["version"] for release in amd64["releases"]] == ["4.14.9", "4.15.0-rc.1", "4.15.0", "4.15.2"]


def test_channels_of_a_version_come_from_its_releases_metadata(capsys, service):
    code, out, _ = run(capsys, "--update-url", service.url, "--channels", "--version", "4.15")
    assert code == 0
    assert out.splitlines() == ["Listing channels for version 4.15:", "", "candidate-4.15", "fast-4.15",
                                "stable-4.15"]
    _, exact, _ = run(capsys, "--update-url", service.url, "--channels", "--version", "4.14.9", "-o", "json",
                      "--channel", "stable-4.15")
    assert json.loads(exact) == {"version": "4.14.9", "channels": ["eus-4.14", "stable-4.14", "stable-4.15"]}


def test_the_update_url_comes_from_the_environment_as_in_oc_mirror(capsys, service, monkeypatch):
    monkeypatch.setenv("UPDATE_URL_OVERRIDE", service.url)
    code, out, _ = run(capsys, "--channel", "stable-4.15")
    assert code == 0 and out.startswith("Channel: stable-4.15")
    assert "channel=stable-4.15" in service.requests[-1] and "arch=amd64" in service.requests[-1]


@pytest.mark.parametrize("args, code, message", [
    (["--channel", "stable-9.9"], 2, "channel 'stable-9.9' (amd64) has no releases at {url}/api/upgrades_info/v1/"
                                     "graph; is the channel name right?"),
    (["--channel", "stable-4.15", "--version", "4.16"], 2,
     "channel 'stable-4.15' (amd64) holds no release 4.16 at {url}/api/upgrades_info/v1/graph"),
    (["--channels", "--version", "4.17"], 2, "channel 'stable-4.17' (amd64) has no releases at {url}/api/"
                                             "upgrades_info/v1/graph; is the channel name right?"),
    (["--version", "4"], 1, "Invalid value for '--version': '4' is not an OpenShift version; write X.Y (4.15) or "
                            "X.Y.Z (4.15.3) (see 'skomirror list releases --help')"),
    (["--channels"], 1, "--channels needs --version, e.g. --channels --version 4.15 (see 'skomirror list releases "
                        "--help')"),
    ([], 1, "give --channel CHANNEL or --version X.Y (see 'skomirror list releases --help')"),
    (["--channel", " "], 1, "Invalid value for '--channel': the channel name is empty (see 'skomirror list releases "
                            "--help')"),
    (["--version", "4.15", "--filter-by-archs", "amd64,x86_64"], 1,
     "Invalid value for '--filter-by-archs': unknown architecture 'x86_64'; known: amd64, arm64, multi, ppc64le, "
     "s390x (see 'skomirror list releases --help')"),
    (["--channel", "stable-4.15", "--output", "yaml"], 1,
     "Invalid value for '--output' / '-o': 'yaml' is not one of 'text', 'json'. (see 'skomirror list releases "
     "--help')"),
])
def test_bad_input_is_one_line_with_the_readme_s_exit_code(capsys, service, args, code, message):
    exit_code, out, err = run(capsys, "--update-url", service.url, *args)
    assert (exit_code, out) == (code, "")
    assert err.splitlines() == [f"skomirror: error: {message.format(url=service.url)}"]


def test_an_unreachable_update_service_is_exit_code_2(capsys):
    code, out, err = run(capsys, "--update-url", "http://127.0.0.1:1", "--channel", "stable-4.15")
    assert (code, out) == (2, "")
    assert err.startswith("skomirror: error: channel 'stable-4.15' (amd64): cannot reach the update service "
                          "http://127.0.0.1:1/api/upgrades_info/v1/graph: ") and len(err.splitlines()) == 1


def test_versions_match_a_minor_or_one_release():
    minor, exact = VersionType().convert("4.15", None, None), VersionType().convert("4.15.0", None, None)
    assert [minor.matches(Version.parse(v)) for v in ("4.15.0-rc.1", "4.15.9", "4.14.9", "4.16.0")] == \
        [True, True, False, False]
    assert [exact.matches(Version.parse(v)) for v in ("4.15.0", "4.15.0-rc.1", "4.15.1")] == [True, False, False]
    assert minor.minor == exact.minor == "4.15"


def test_channel_metadata_is_read_from_each_node_and_bad_metadata_is_a_malformed_graph():
    releases = parse_graph(graph(), "stable-4.15", "amd64").releases
    assert releases[0].channels == ("eus-4.14", "stable-4.14", "stable-4.15")
    assert releases[1].channels == ("candidate-4.15",)
    broken = graph()
    broken["nodes"][0]["metadata"] = "stable-4.15"
    with pytest.raises(ReleaseCollectionError, match="the update graph is malformed"):
        parse_graph(broken, "stable-4.15", "amd64")
