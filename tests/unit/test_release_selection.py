"""Release selection on update graphs written here.

stable-4.16: 4.15.9 -> 4.16.0 -> 4.16.1 -> 4.16.2 -> 4.16.3, plus 4.16.0 -> 4.16.2 and 4.16.1 -> 4.16.3
             (edges that skip a release)
stable-4.17: 4.16.2 -> 4.17.0, 4.16.3 -> 4.17.0, 4.16.3 -> 4.17.1, 4.17.0 -> 4.17.1
stable-4.18: 4.17.1 -> 4.18.0 -> 4.18.1
fast-4.16:   4.16.3 -> 4.16.4
"""

import pytest

from skomirror.catalog.semver import Version
from skomirror.release.cincinnati import ReleaseCollectionError, UpdateService, parse_graph
from skomirror.release.selection import ChannelRequest, select_in_channel, select_releases, shortest_path
from testkit.updateservice import UpdateServiceStub, graph_document


def payload(version: str) -> str:
    return f"quay.io/openshift-release-dev/ocp-release@sha256:{version.replace('.', '').rjust(64, '0')}"


def document(versions, edges):
    return graph_document([(v, payload(v)) for v in versions], [tuple(e.split(">")) for e in edges])


GRAPHS = {
    "stable-4.16": document(["4.16.2", "4.15.9", "4.16.0", "4.16.3", "4.16.1"],  # node order is arbitrary
                            ["4.15.9>4.16.0", "4.16.0>4.16.1", "4.16.1>4.16.2", "4.16.2>4.16.3", "4.16.0>4.16.2",
                             "4.16.1>4.16.3"]),
    "stable-4.17": document(["4.16.2", "4.16.3", "4.17.0", "4.17.1"],
                            ["4.16.2>4.17.0", "4.16.3>4.17.0", "4.16.3>4.17.1", "4.17.0>4.17.1"]),
    "stable-4.18": document(["4.17.1", "4.18.0", "4.18.1"], ["4.17.1>4.18.0", "4.18.0>4.18.1"]),
    "fast-4.16": document(["4.16.3", "4.16.4"], ["4.16.3>4.16.4"]),
}


class Graphs:
    def graph(self, channel, arch):
        if channel not in GRAPHS:
            raise ReleaseCollectionError(f"channel {channel!r} ({arch}) has no releases")
        return parse_graph(GRAPHS[channel], channel, arch)


def versions(releases):
    return [str(release.version) for release in releases]


def pick(**request):
    return versions(select_in_channel(Graphs().graph("stable-4.16", "amd64"), ChannelRequest("stable-4.16", **request)))


def test_the_channel_head_by_default():
    assert pick() == ["4.16.3"]


def test_full_takes_the_whole_channel():
    assert pick(full=True) == ["4.15.9", "4.16.0", "4.16.1", "4.16.2", "4.16.3"]


@pytest.mark.parametrize("bounds, expected", [
    (dict(min_version="4.16.1"), ["4.16.1", "4.16.2", "4.16.3"]),
    (dict(max_version="4.16.1"), ["4.15.9", "4.16.0", "4.16.1"]),
    (dict(min_version="4.16.0", max_version="4.16.2"), ["4.16.0", "4.16.1", "4.16.2"]),
    (dict(min_version="4.16.1", max_version="4.16.1"), ["4.16.1"]),
])
def test_ranges(bounds, expected):
    assert pick(**bounds) == expected


def test_shortest_path_takes_the_edge_that_skips_a_release():
    assert pick(min_version="4.16.0", max_version="4.16.3", shortest_path=True) == ["4.16.0", "4.16.2", "4.16.3"]
    assert pick(min_version="4.15.9", shortest_path=True) == ["4.15.9", "4.16.0", "4.16.2", "4.16.3"]


def test_shortest_path_without_a_path_keeps_both_ends():
    graph = parse_graph(document(["4.1.0", "4.1.1"], []), "c", "amd64")
    assert versions(shortest_path(graph, Version.parse("4.1.0"), Version.parse("4.1.1"))) == ["4.1.0", "4.1.1"]


def test_several_channels_add_the_upgrade_path_across_minors():
    chosen = select_releases(Graphs(), "amd64", [ChannelRequest("stable-4.16", min_version="4.16.2"),
                                                 ChannelRequest("stable-4.18")], warnings.append)
    # 4.16: 4.16.2..head; 4.18: head; the path 4.16.2 -> 4.16.3 -> 4.17.1 -> 4.18.0 -> 4.18.1
    assert versions(chosen) == ["4.16.2", "4.16.3", "4.17.1", "4.18.0", "4.18.1"]


warnings: list = []


def test_same_minor_other_prefix_takes_the_path_in_the_target_channel():
    chosen = select_releases(Graphs(), "amd64", [ChannelRequest("stable-4.16", min_version="4.16.3"),
                                                 ChannelRequest("fast-4.16")], warnings.append)
    assert versions(chosen) == ["4.16.3", "4.16.4"]


def test_a_version_missing_from_the_next_channel_keeps_only_the_requested_release():
    seen = []
    chosen = select_releases(Graphs(), "amd64", [ChannelRequest("stable-4.16", min_version="4.15.9",
                                                                max_version="4.16.1"),
                                                 ChannelRequest("fast-4.16")], seen.append)
    assert versions(chosen) == ["4.15.9", "4.16.0", "4.16.1", "4.16.4"]
    assert seen == ["no upgrade path for 4.15.9 in channel fast-4.16: only 4.16.4 is added"]


@pytest.mark.parametrize("request_, message", [
    (ChannelRequest("stable-4.16", min_version="4.16.3", max_version="4.16.0"), "minVersion 4.16.3 is greater"),
    (ChannelRequest("stable-4.16", min_version="4.16.0", max_version="4.16.25", shortest_path=True),
     "end version 4.16.25 is not in the channel"),
    (ChannelRequest("stable-4.16", min_version="4.16.0-rc.1", max_version="4.16.0-rc.5"), "no release between"),
    (ChannelRequest("stable-4.99"), "channel 'stable-4.99' (amd64) has no releases"),
])
def test_errors(request_, message):
    with pytest.raises(ReleaseCollectionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select_releases(Graphs(), "amd64", [request_], warnings.append)


def test_update_service_client_against_a_local_service_retries_5xx_and_names_an_unknown_channel(tmp_path):
    with UpdateServiceStub({("stable-4.16", "amd64"): GRAPHS["stable-4.16"]}) as stub:
        stub.failures = [503, 502]
        service = UpdateService(stub.url, attempts=3, save_dir=tmp_path)
        graph = service.graph("stable-4.16", "amd64")
        assert graph.head().version == Version.parse("4.16.3")
        assert (tmp_path / "amd64-stable-4.16.json").exists()
        request = stub.requests[-1]
        assert request.startswith("/api/upgrades_info/v1/graph?arch=amd64&channel=stable-4.16&id=")
        with pytest.raises(ReleaseCollectionError, match="channel 'nope' \\(amd64\\) has no releases at"):
            service.graph("nope", "amd64")
        stub.failures = [503] * 5
        with pytest.raises(ReleaseCollectionError, match="cannot reach the update service"):
            UpdateService(stub.url, attempts=2).graph("stable-4.16", "arm64")
