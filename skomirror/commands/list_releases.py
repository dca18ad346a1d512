"""`skomirror list releases`: the OpenShift releases of a channel, or the channels holding a version, as
oc-mirror v2's `list releases` prints them, read from the same update service `run` asks.

    --channel C               every release in C, per architecture (--filter-by-archs, default amd64)
    --version X.Y             the same for stable-X.Y, as oc-mirror
    --version X.Y.Z           that release in stable-X.Y (oc-mirror asks for a channel stable-X.Y.Z)
    --channel C --version V   only the releases of V in C (oc-mirror lists the whole channel)
    --channels --version V    the channels that hold a release of V (oc-mirror: every channel named
                              anywhere in the stable-X.Y graph)
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import click

from skomirror.cli_compat import OcMirrorCommand
from skomirror.catalog.semver import Version
from skomirror.commands.options import output_option, update_url_option
from skomirror.commands.printing import emit
from skomirror.errors import EXIT_OK
from skomirror.release.cincinnati import ARCH_TAGS, OCP_UPDATE_URL, Release, ReleaseCollectionError, UpdateService

ARCHITECTURES = tuple(sorted(ARCH_TAGS))


@dataclass(frozen=True)
class VersionFilter:
    """X.Y: every release of that minor (release candidates too); X.Y.Z: that release."""

    text: str
    numbers: Tuple[int, ...]

    @property
    def minor(self) -> str:
        return f"{self.numbers[0]}.{self.numbers[1]}"

    def matches(self, version: Version) -> bool:
        if len(self.numbers) == 3 and version.prerelease:
            return False
        return (version.major, version.minor, version.patch)[:len(self.numbers)] == self.numbers


class VersionType(click.ParamType):
    name = "X.Y[.Z]"

    def convert(self, value, param, ctx):
        if isinstance(value, VersionFilter):
            return value
        if not re.fullmatch(r"\d+\.\d+(\.\d+)?", value.strip()):
            self.fail(f"{value!r} is not an OpenShift version; write X.Y (4.15) or X.Y.Z (4.15.3)", param, ctx)
        return VersionFilter(value.strip(), tuple(int(part) for part in value.strip().split(".")))


def architectures(value: str) -> List[str]:
    """oc-mirror's --filter-by-archs: a comma-separated list of the architectures the update service knows."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in ARCH_TAGS]
    if unknown or not names:
        raise click.BadParameter(f"unknown architecture {', '.join(map(repr, unknown)) or repr(value)}; known: "
                                 f"{', '.join(ARCHITECTURES)}", param_hint="'--filter-by-archs'")
    return list(dict.fromkeys(names))


@dataclass
class ArchitectureReleases:
    architecture: str
    head: Release  # of the whole channel, whatever --version keeps
    releases: List[Release]


@dataclass
class ReleaseListing:
    channel: str
    version: Optional[VersionFilter]
    defaulted: bool  # the channel is stable-X.Y, from --version
    architectures: List[ArchitectureReleases] = field(default_factory=list)


def list_releases(service: UpdateService, channel: str, version: Optional[VersionFilter], defaulted: bool,
                  archs: Sequence[str]) -> ReleaseListing:
    listing = ReleaseListing(channel, version, defaulted)
    for arch in archs:
        graph = service.graph(channel, arch)
        releases = sorted(graph.releases, key=lambda release: release.version)
        if version is not None and not (defaulted and len(version.numbers) == 2):
            releases = [release for release in releases if version.matches(release.version)]
            if not releases:
                raise ReleaseCollectionError(f"channel {channel!r} ({arch}) holds no release {version.text} at "
                                             f"{service.url}")
        listing.architectures.append(ArchitectureReleases(arch, graph.head(), releases))
    return listing


def channels_holding(service: UpdateService, channel: str, version: VersionFilter, arch: str) -> List[str]:
    """The channels the service names for the releases of `version` found in `channel`'s graph."""
    releases = [release for release in service.graph(channel, arch).releases if version.matches(release.version)]
    if not releases:
        raise ReleaseCollectionError(f"channel {channel!r} ({arch}) holds no release {version.text} at {service.url}; "
                                     "give the channel that holds it with --channel")
    return sorted({name for release in releases for name in release.channels})


def releases_text(listing: ReleaseListing) -> List[str]:
    lines = []
    if listing.defaulted:
        lines += ["Listing stable channels. Use --channel=<name> to filter.",
                  f"Use skomirror list releases --channels --version={listing.version.text} to discover other "
                  "channels.", ""]
    for index, arch in enumerate(listing.architectures):
        lines += ([""] if index else []) + [f"Channel: {listing.channel}", f"Architecture: {arch.architecture}"]
        lines += [str(release.version) for release in arch.releases]
    return lines


def releases_document(listing: ReleaseListing) -> dict:
    return {"channel": listing.channel, "version": listing.version.text if listing.version else None,
            "architectures": [{"architecture": arch.architecture, "head": str(arch.head.version),
                               "releases": [{"version": str(release.version), "payload": release.payload}
                                            for release in arch.releases]}
                              for arch in listing.architectures]}


@click.command("releases", cls=OcMirrorCommand)
@click.option("--channel", metavar="CHANNEL", help="List the releases of this channel (e.g. stable-4.15).")
@click.option("--version", "version", type=VersionType(),
              help="An OpenShift version: alone, the releases of stable-X.Y; with --channel, only this version's; "
                   "with --channels, the channels holding it.")
@click.option("--channels", "list_channels", is_flag=True, help="List the channels that hold --version.")
@click.option("--filter-by-archs", "archs", default="amd64", show_default=True, metavar="ARCH[,ARCH...]",
              help=f"Architectures to list ({', '.join(ARCHITECTURES)}).")
@update_url_option
@output_option
def command(channel: Optional[str], version: Optional[VersionFilter], list_channels: bool, archs: str,
            update_url: Optional[str], output: str) -> int:
    """List the OpenShift releases of a channel, or the channels that hold a version.

    \b
    Examples:
      skomirror list releases --channel stable-4.15
      skomirror list releases --version 4.15            # stable-4.15
      skomirror list releases --channel fast-4.15 --version 4.15.3
      skomirror list releases --channels --version 4.15

    \b
    Exit codes: 0 listed; 1 usage error; 2 the update service does not know the
    channel or version, or cannot be read.
    """
    if channel is not None and not channel.strip():
        raise click.BadParameter("the channel name is empty", param_hint="'--channel'")
    if list_channels and version is None:
        raise click.UsageError("--channels needs --version, e.g. --channels --version 4.15")
    if channel is None and version is None:
        raise click.UsageError("give --channel CHANNEL or --version X.Y")
    names = architectures(archs)
    service = UpdateService(update_url or OCP_UPDATE_URL)
    defaulted = channel is None
    channel = channel or f"stable-{version.minor}"
    if list_channels:
        found = channels_holding(service, channel, version, names[0])
        emit(output, {"version": version.text, "channels": found},
             [f"Listing channels for version {version.text}:", ""] + found)
    else:
        listing = list_releases(service, channel, version, defaulted, names)
        emit(output, releases_document(listing), releases_text(listing))
    return EXIT_OK
