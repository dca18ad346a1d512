"""The OpenShift update graph (Cincinnati): which releases a channel holds and how they connect.

GET <update URL>?arch=<arch>&channel=<channel>&id=<uuid>, Accept: application/json.
Only `nodes` (version, payload, the channels their metadata names) and `edges`
(index pairs) are used, as in oc-mirror; conditional edges are ignored. 5xx
answers and connection errors are retried; an empty graph (the service's answer
for an unknown channel) is an error naming the channel.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from skomirror.catalog.semver import InvalidVersion, Version
from skomirror.errors import EXIT_RELEASE, SkomirrorError

OCP_UPDATE_URL = "https://api.openshift.com/api/upgrades_info/v1/graph"
OKD_UPDATE_URL = "https://origin-release.ci.openshift.org/graph"
GRAPH_PATH = "/api/upgrades_info/v1/graph"
CHANNELS_KEY = "io.openshift.upgrades.graph.release.channels"  # node metadata: the channels holding a release
ARCH_TAGS = {"amd64": "x86_64", "arm64": "aarch64", "ppc64le": "ppc64le", "s390x": "s390x", "multi": "multi"}


class ReleaseCollectionError(SkomirrorError):
    """Releases cannot be selected or read: nothing is copied (exit bit 2, as oc-mirror)."""

    def __init__(self, message: str):
        super().__init__(message, EXIT_RELEASE)


class _Transient(Exception):
    pass


@dataclass(frozen=True)
class Release:
    version: Version
    payload: str  # pull spec, by digest in real graphs
    channels: Tuple[str, ...] = field(default=(), compare=False)  # every channel the service says holds it


@dataclass
class Graph:
    channel: str
    arch: str
    releases: List[Release]
    edges: List[Tuple[int, int]] = field(default_factory=list)

    def index_of(self, version: Version) -> Optional[int]:
        return next((i for i, release in enumerate(self.releases) if release.version == version), None)

    def head(self) -> Release:
        return max(self.releases, key=lambda release: release.version)

    def lowest(self) -> Release:
        return min(self.releases, key=lambda release: release.version)

    def successors(self) -> Dict[int, List[int]]:
        """Adjacency, newest target first, so that ties prefer newer hops (as oc-mirror)."""
        adjacency: Dict[int, List[int]] = {i: [] for i in range(len(self.releases))}
        for source, target in self.edges:
            adjacency[source].append(target)
        for targets in adjacency.values():
            targets.sort(key=lambda i: self.releases[i].version, reverse=True)
        return adjacency


def _channels(node: dict) -> Tuple[str, ...]:
    names = str((node.get("metadata") or {}).get(CHANNELS_KEY) or "")
    return tuple(name.strip() for name in names.split(",") if name.strip())


def parse_graph(document: dict, channel: str, arch: str) -> Graph:
    try:
        releases = [Release(Version.parse(node["version"]), node["payload"], _channels(node))
                    for node in document.get("nodes") or []]
        edges = [(int(a), int(b)) for a, b in document.get("edges") or []]
    except (KeyError, TypeError, ValueError, AttributeError, InvalidVersion) as exc:
        raise ReleaseCollectionError(f"channel {channel!r} ({arch}): the update graph is malformed: {exc}") from None
    for source, target in edges:
        if not (0 <= source < len(releases) and 0 <= target < len(releases)):
            raise ReleaseCollectionError(f"channel {channel!r} ({arch}): an edge points outside the graph")
    return Graph(channel, arch, releases, edges)


def graph_endpoint(url: str) -> str:
    """A full graph endpoint as given (oc-mirror's UPDATE_URL_OVERRIDE), or a service base with the path added."""
    return url if urllib.parse.urlsplit(url).path.rstrip("/").endswith("/graph") else url.rstrip("/") + GRAPH_PATH


class UpdateService:
    def __init__(self, url: str = OCP_UPDATE_URL, timeout: float = 120.0, attempts: int = 4,
                 save_dir: Optional[Path] = None):
        self.url = graph_endpoint(url)
        self.timeout = timeout
        self.attempts = attempts
        self.save_dir = save_dir  # every answer is kept there, for a look afterwards
        self._cache: Dict[Tuple[str, str], Graph] = {}

    def _get(self, channel: str, arch: str) -> bytes:
        query = urllib.parse.urlencode({"arch": arch, "channel": channel, "id": str(uuid.uuid4())})
        request = urllib.request.Request(f"{self.url}?{query}", headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise _Transient(f"HTTP {exc.code}") from None
            raise ReleaseCollectionError(f"channel {channel!r} ({arch}): {self.url} answered HTTP {exc.code}: "
                                         f"{exc.read()[:200].decode(errors='replace')}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise _Transient(str(getattr(exc, "reason", exc))) from None

    def graph(self, channel: str, arch: str) -> Graph:
        if (channel, arch) not in self._cache:
            retrying = Retrying(stop=stop_after_attempt(self.attempts), wait=wait_exponential(multiplier=0.5, max=8),
                                retry=retry_if_exception(lambda e: isinstance(e, _Transient)), reraise=True)
            try:
                body = retrying(self._get, channel, arch)
            except _Transient as exc:
                raise ReleaseCollectionError(f"channel {channel!r} ({arch}): cannot reach the update service "
                                             f"{self.url}: {exc}") from None
            try:
                document = json.loads(body)
            except ValueError:
                raise ReleaseCollectionError(f"channel {channel!r} ({arch}): {self.url} did not answer JSON") from None
            if self.save_dir is not None:
                self.save_dir.mkdir(parents=True, exist_ok=True)
                (self.save_dir / f"{arch}-{channel}.json").write_bytes(body)
            graph = parse_graph(document, channel, arch)
            if not graph.releases:
                raise ReleaseCollectionError(f"channel {channel!r} ({arch}) has no releases at {self.url}; is the "
                                             "channel name right?")
            self._cache[(channel, arch)] = graph
        return self._cache[(channel, arch)]
