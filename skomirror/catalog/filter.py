"""Filtering a catalog the way oc-mirror v2 does (its catalog-filter library, mirror-config v1alpha1).

- No packages: every channel of every package is cut to its head (everything with `full`).
- Listed packages keep their listed channels (all channels when none are listed); the
  package's default channel must survive or be replaced by `defaultChannel`.
- Per channel, the channel's range, else the package's: `full` keeps every entry; a
  range keeps the smallest single-headed stretch of the replaces chain that holds every
  bundle in range, plus the in-range bundles it skips; min == max keeps that version
  only; no range keeps the head.
Unlike oc-mirror, an unknown package or channel and min > max are errors here, each
naming the catalog, the package and the channel.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from skomirror.catalog.fbc import Catalog, CatalogError, Channel
from skomirror.catalog.semver import Version, VersionRange


class FilterError(CatalogError):
    pass


@dataclass(frozen=True)
class ChannelFilter:
    name: str
    range: VersionRange = VersionRange()


@dataclass(frozen=True)
class PackageFilter:
    name: str
    channels: List[ChannelFilter] = field(default_factory=list)
    default_channel: Optional[str] = None
    range: VersionRange = VersionRange()


@dataclass(frozen=True)
class CatalogFilter:
    catalog: str  # for messages
    packages: List[PackageFilter] = field(default_factory=list)
    full: bool = False


class _Graph:
    """A channel's upgrade graph: edges from an entry to what it replaces and skips."""

    def __init__(self, channel: Channel, where: str):
        self.replaces: Dict[str, Optional[str]] = {}
        self.skips: Dict[str, List[str]] = {}
        incoming: Dict[str, Set[str]] = {}
        names = [entry.name for entry in channel.entries]
        if not names:
            raise FilterError(f"{where}: the channel has no entries")
        for entry in channel.entries:
            self.replaces[entry.name] = entry.replaces
            self.skips[entry.name] = list(entry.skips)
            for target in ([entry.replaces] if entry.replaces else []) + entry.skips:
                incoming.setdefault(target, set()).add(entry.name)
        heads = [name for name in names if not incoming.get(name)]
        if not heads:
            raise FilterError(f"{where}: no channel head (the upgrade graph has a cycle)")
        if len(heads) > 1:
            raise FilterError(f"{where}: multiple channel heads: {', '.join(sorted(heads))}")
        self.head = heads[0]
        self._check_acyclic(incoming)

    def _check_acyclic(self, incoming: Dict[str, Set[str]]) -> None:
        remaining = {name: set(sources) for name, sources in incoming.items()}
        queue = [self.head]
        while queue:
            current = queue.pop()
            for target in ([self.replaces.get(current)] if self.replaces.get(current) else []) + \
                    self.skips.get(current, []):
                sources = remaining.get(target)
                if sources is None:
                    continue
                sources.discard(current)
                if not sources:
                    del remaining[target]
                    queue.append(target)
        if remaining:
            raise FilterError(f"upgrade graph of the channel has a cycle through {', '.join(sorted(remaining))}")

    def chain(self) -> List[str]:
        """The replaces chain from the head down (it may end on a name outside the channel)."""
        chain, current = [], self.head
        while current is not None and current not in chain:
            chain.append(current)
            current = self.replaces.get(current)
        return chain

    def in_range(self, version_range: VersionRange, versions: Dict[str, Version]) -> Set[str]:
        """catalog-filter's filterByVersionRange."""
        chain = self.chain()
        seen: Set[str] = set()
        counts: Dict[str, int] = {}
        below = 0
        for name in reversed(chain):  # bottom up: each bundle in range is counted once, as low as it appears
            count = below
            for candidate in [name] + self.skips.get(name, []):
                if candidate not in seen and version_range.contains(versions.get(candidate)):
                    seen.add(candidate)
                    count += 1
            counts[name] = below = count
        head, tail, best = None, None, -1
        for name in chain:
            if counts[name] >= best:
                head, best = name, counts[name]
            if counts[name] == 0:
                tail = name
                break
        keep: Set[str] = set()
        if head is None:
            return keep
        for name in chain[chain.index(head):chain.index(tail) if tail else len(chain)]:
            keep.add(name)
            keep.update(skip for skip in self.skips.get(name, [])
                        if version_range.contains(versions.get(skip)))
        return keep


def _check_spec(catalog: Catalog, spec: CatalogFilter) -> None:
    for package in spec.packages:
        where = f"catalog {spec.catalog}: package {package.name!r}"
        if package.name not in catalog.packages:
            raise FilterError(f"{where}: no such package in the catalog")
        known = {channel.name for channel in catalog.channels_of(package.name)}
        ranges = [(None, package.range)] + [(channel.name, channel.range) for channel in package.channels]
        for channel_name, version_range in ranges:
            place = f"{where}" + (f" channel {channel_name!r}" if channel_name else "")
            if channel_name and channel_name not in known:
                raise FilterError(f"{place}: no such channel (the package has: {', '.join(sorted(known))})")
            if version_range.minimum and version_range.maximum and version_range.minimum > version_range.maximum:
                raise FilterError(f"{place}: minVersion {version_range.minimum} is greater than maxVersion "
                                  f"{version_range.maximum}")
            if version_range and spec.full:
                raise FilterError(f"{place}: full: true cannot be mixed with minVersion/maxVersion")
        if package.range and any(channel.range for channel in package.channels):
            raise FilterError(f"{where}: minVersion/maxVersion on the package and on its channels cannot be mixed")


def _default_channel(catalog: Catalog, package: PackageFilter, kept: Set[str], where: str) -> Optional[str]:
    original = catalog.default_channel(package.name)
    if package.default_channel:
        if package.default_channel not in kept:
            raise FilterError(f"{where} channel {package.default_channel!r}: defaultChannel names a channel that is "
                              f"not kept by the filter")
        return package.default_channel
    if original and original not in kept:
        raise FilterError(f"{where} channel {original!r}: the default channel would be filtered away; list it, or "
                          "set defaultChannel to one of the kept channels")
    return original


def filter_catalog(catalog: Catalog, spec: CatalogFilter) -> Catalog:
    _check_spec(catalog, spec)
    configs = {package.name: package for package in spec.packages}
    result = Catalog(others=[o for o in catalog.others if not configs or not o.get("package")
                             or o.get("package") in configs])
    for name, raw in catalog.packages.items():
        if configs and name not in configs:
            continue
        config = configs.get(name) or PackageFilter(name)
        wanted = {channel.name: channel for channel in config.channels}
        channels = [c for c in catalog.channels_of(name) if not wanted or c.name in wanted]
        where = f"catalog {spec.catalog}: package {name!r}"
        default = _default_channel(catalog, config, {c.name for c in channels}, where)
        result.packages[name] = dict(raw, defaultChannel=default) if default else dict(raw)
        versions = {bundle_name: bundle.version for bundle_name, bundle in catalog.bundles.get(name, {}).items()
                    if bundle.version is not None}
        kept_bundles: Set[str] = set()
        for channel in channels:
            channel_where = f"{where} channel {channel.name!r}"
            version_range = (wanted.get(channel.name) or ChannelFilter(channel.name)).range or config.range
            if spec.full:
                keep = {entry.name for entry in channel.entries}
            elif version_range.pinned:
                keep = {bundle for bundle, version in versions.items() if version == version_range.minimum}
                if not keep:
                    raise FilterError(f"{channel_where}: no bundle has version {version_range.minimum}")
            elif version_range:
                keep = _graph(channel, channel_where).in_range(version_range, versions)
            else:
                keep = {_graph(channel, channel_where).head}
            filtered = channel.with_entries(keep)
            if not filtered.entries:
                if channel.name == default:
                    raise FilterError(f"{channel_where}: version range {version_range} leaves the default channel "
                                      "empty; set defaultChannel to a channel with bundles in range")
                continue
            result.channels.append(filtered)
            kept_bundles |= keep
        result.bundles[name] = {n: b for n, b in catalog.bundles.get(name, {}).items() if n in kept_bundles}
        kept_channels = {c.name for c in result.channels if c.package == name}
        for deprecation in catalog.deprecations:
            if deprecation.get("package") == name:
                result.deprecations.append(_filter_deprecation(deprecation, set(result.bundles[name]), kept_channels))
    return result


def _graph(channel: Channel, where: str) -> _Graph:
    try:
        return _Graph(channel, where)
    except FilterError as exc:
        message = str(exc)
        raise FilterError(message if message.startswith(where) else f"{where}: {message}") from None


def channel_head(channel: Channel) -> str:
    """The entry nothing in the channel replaces or skips, as OLM finds it; FilterError when there is not one."""
    return _graph(channel, f"package {channel.package}: channel {channel.name}").head


def _filter_deprecation(deprecation: dict, bundles: Set[str], channels: Set[str]) -> dict:
    def keep(entry: dict) -> bool:
        reference = entry.get("reference") or {}
        if reference.get("schema") == "olm.bundle":
            return reference.get("name") in bundles
        if reference.get("schema") == "olm.channel":
            return reference.get("name") in channels
        return True

    return dict(deprecation, entries=[entry for entry in deprecation.get("entries") or [] if keep(entry)])

