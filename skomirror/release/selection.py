"""Which releases of a channel to mirror, as oc-mirror v2 picks them.

Per channel: neither bound -> the head only (`full`: from the lowest release);
`minVersion` -> up to the head; `maxVersion` -> from the lowest. Then every
release in [min, max], or with `shortestPath` only those on the shortest
upgrade path. With several channels, the upgrade path from the lowest minimum
to the highest maximum is added, hopping through the minors in between.
"""

from collections import deque
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Protocol, Tuple

from skomirror.catalog.semver import InvalidVersion, Version
from skomirror.release.cincinnati import Graph, Release, ReleaseCollectionError


class GraphSource(Protocol):
    def graph(self, channel: str, arch: str) -> Graph: ...


@dataclass(frozen=True)
class ChannelRequest:
    name: str
    min_version: Optional[str] = None
    max_version: Optional[str] = None
    full: bool = False
    shortest_path: bool = False
    where: str = ""


def _version(request: ChannelRequest, text: str) -> Version:
    try:
        return Version.parse(text)
    except InvalidVersion as exc:
        raise ReleaseCollectionError(f"{request.where}channel {request.name!r}: {exc}") from None


def resolve_bounds(graph: Graph, request: ChannelRequest) -> Tuple[Version, Version]:
    maximum = _version(request, request.max_version) if request.max_version else graph.head().version
    if request.min_version:
        minimum = _version(request, request.min_version)
    elif not request.max_version and not request.full:
        minimum = maximum  # the channel head only
    else:
        minimum = graph.lowest().version
    if minimum > maximum:
        raise ReleaseCollectionError(f"{request.where}channel {request.name!r}: minVersion {minimum} is greater "
                                     f"than maxVersion {maximum}")
    return minimum, maximum


def _node(graph: Graph, version: Version, which: str) -> int:
    index = graph.index_of(version)
    if index is None:
        raise ReleaseCollectionError(f"channel {graph.channel!r} ({graph.arch}): {which} version {version} is not "
                                     "in the channel")
    return index


def shortest_path(graph: Graph, start: Version, end: Version) -> List[Release]:
    """Breadth-first over the edges; without a path, just the two ends (as oc-mirror)."""
    first, last = _node(graph, start, "start"), _node(graph, end, "end")
    successors = graph.successors()
    previous: Dict[int, Optional[int]] = {first: None}
    queue = deque([first])
    while queue and last not in previous:
        current = queue.popleft()
        for target in successors[current]:
            if target not in previous:
                previous[target] = current
                queue.append(target)
    if last not in previous:
        return [graph.releases[first], graph.releases[last]] if first != last else [graph.releases[first]]
    path, node = [], last
    while node is not None:
        path.append(graph.releases[node])
        node = previous[node]
    return list(reversed(path))


def select_in_channel(graph: Graph, request: ChannelRequest) -> List[Release]:
    minimum, maximum = resolve_bounds(graph, request)
    if request.shortest_path:
        return shortest_path(graph, minimum, maximum)
    selected = [release for release in graph.releases if minimum <= release.version <= maximum]
    if not selected:
        raise ReleaseCollectionError(f"{request.where}channel {request.name!r} ({graph.arch}): no release between "
                                     f"{minimum} and {maximum}")
    return sorted(selected, key=lambda release: release.version)


def _split_channel(name: str) -> Tuple[str, Tuple[int, int]]:
    prefix, _, version = name.rpartition("-")
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        raise ReleaseCollectionError(f"channel {name!r} is not named <prefix>-<major>.<minor>") from None
    return prefix, (major, minor)


def upgrade_path(graphs: GraphSource, arch: str, source: str, target: str, first: Version, last: Version,
                 warn: Callable[[str], None]) -> List[Release]:
    """Releases on the way from `first` in `source` to `last` in `target`, minor by minor."""
    if source == target:
        return shortest_path(graphs.graph(target, arch), first, last)
    source_prefix, source_minor = _split_channel(source)
    _, target_minor = _split_channel(target)
    if source_minor == target_minor:
        target_graph = graphs.graph(target, arch)
        if target_graph.index_of(first) is None:
            warn(f"no upgrade path for {first} in channel {target}: only {last} is added")
            return [target_graph.releases[_node(target_graph, last, "end")]]
        return shortest_path(target_graph, first, last)
    source_graph = graphs.graph(source, arch)
    path = shortest_path(source_graph, first, source_graph.head().version)
    start = source_graph.head().version
    major, minor = source_minor
    while (major, minor) < target_minor:
        minor += 1
        channel = target if (major, minor) == target_minor else f"{source_prefix}-{major}.{minor}"
        graph = graphs.graph(channel, arch)
        end = last if channel == target else graph.head().version
        if graph.index_of(start) is None:
            warn(f"no upgrade path from {start} in channel {channel}: only {last} is added")
            final = graphs.graph(target, arch)
            return path + [final.releases[_node(final, last, "end")]]
        path += shortest_path(graph, start, end)
        start = end
    return path


def select_releases(graphs: GraphSource, arch: str, requests: List[ChannelRequest],
                    warn: Callable[[str], None]) -> List[Release]:
    """The union of every channel's selection, plus the path across channels; one entry per payload."""
    chosen: Dict[str, Release] = {}
    bounds = []
    for request in requests:
        graph = graphs.graph(request.name, arch)
        for release in select_in_channel(graph, request):
            chosen.setdefault(release.payload, release)
        bounds.append((request.name, *resolve_bounds(graph, request)))
    if len(requests) > 1:
        source, first, _ = min(bounds, key=lambda bound: bound[1])
        target, _, last = max(bounds, key=lambda bound: bound[2])
        for release in upgrade_path(graphs, arch, source, target, first, last, warn):
            chosen.setdefault(release.payload, release)
    return sorted(chosen.values(), key=lambda release: release.version)
