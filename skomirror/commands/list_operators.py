"""`skomirror list operators`: what an operator catalog holds, as oc-mirror v2's `list operators` prints it.

    --catalog IMG                          every package, its display name and default channel
    --catalog IMG --package P              the package, then each channel with its head
    --catalog IMG --package P --channel C  the versions of the channel's bundles

The catalog image is pulled the way `run` pulls it (skomirror.engine: the same skopeo settings, retries
and logs) into the workspace's operator-catalogs/, and its FBC extracted into catalog-configs/, once per
digest: a later `run` or `list` of the same catalog reads it from there.
"""

from __future__ import annotations  # the catalog's types are annotations here; its modules come with the command

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Tuple

import click

from skomirror.cli_compat import OcMirrorCommand
from skomirror.commands.options import (ImageType, authfile_option, cert_dir_option, local_path, output_option,
                                        retry_times_option, tls_option)
from skomirror.commands.printing import columns, emit
from skomirror.config.model import Where
from skomirror.errors import EXIT_OK
from skomirror.progress import Progress
from skomirror.skopeo.command import CopySettings, RegistryAccess, check_authfile
from skomirror.skopeo.retry import RetryPolicy
from skomirror.workflows.options import DEFAULT_PARALLEL_IMAGES, DEFAULT_STALL_TIMEOUT
from skomirror.workspace import Workspace

if TYPE_CHECKING:
    from skomirror.catalog.fbc import Bundle, Catalog, Channel

CSV_METADATA = "olm.csv.metadata"
COMMAND_LINE = Where("command line", 0, "--catalog")


class CatalogType(ImageType):
    name = "IMAGE"

    def convert(self, value, param, ctx):
        from skomirror.collectors.operators import OCI_CATALOGS
        if str(value).startswith("oci://"):
            self.fail(OCI_CATALOGS, param, ctx)
        return super().convert(value, param, ctx)


@dataclass(frozen=True)
class PulledCatalog:
    reference: str
    digest: str
    catalog: Catalog


def pull_catalog(reference: str, workspace: Workspace, settings: CopySettings, retry: RetryPolicy,
                 progress: Progress) -> PulledCatalog:
    """Pull `reference` into the workspace with run's machinery and read its FBC; exit bit 4 when it cannot be."""
    from skomirror.catalog.fbc import CatalogError, load_catalog
    from skomirror.collectors.operators import OperatorCollectionError, catalog_work, extracted_configs
    from skomirror.collectors.types import CollectedImage, ImageKind
    from skomirror.engine import CopyEngine, make_runner
    from skomirror.imagefs import ImageReadError
    from skomirror.imageref import ImageRef
    from skomirror.run import signals_interrupt
    from skomirror.store import MissingFromStore, Store
    if settings.authfile is not None:
        check_authfile(settings.authfile)
    runner = make_runner(settings, retry, DEFAULT_STALL_TIMEOUT, progress)
    workspace.prepare()
    engine = CopyEngine(workspace, progress, runner, DEFAULT_PARALLEL_IMAGES)
    source = ImageRef.parse(reference)
    store = Store(workspace.operator_catalogs)
    try:
        with signals_interrupt():
            fetched = engine.fetch_into(store)([CollectedImage(source, reference, ImageKind.OPERATOR_CATALOG,
                                                               COMMAND_LINE)])
    except KeyboardInterrupt:
        engine.stop()
        raise
    digest, error = fetched[reference]
    if digest is None:
        raise OperatorCollectionError(f"catalog {reference} cannot be pulled: {error}")
    configs = catalog_work(workspace.catalog_configs, source, digest) / "configs"
    try:
        return PulledCatalog(reference, digest, load_catalog(extracted_configs(store, digest, configs)))
    except (CatalogError, ImageReadError, MissingFromStore) as exc:
        raise OperatorCollectionError(f"catalog {reference}: {exc}") from None


def display_name(catalog: Catalog, package: str) -> str:
    """As oc-mirror: the CSV display name of the package's highest bundle (the package itself has none)."""
    bundles = [bundle for bundle in catalog.bundles.get(package, {}).values() if bundle.version is not None]
    if not bundles:
        return ""
    highest = max(bundles, key=lambda bundle: bundle.version)
    for prop in highest.raw.get("properties") or []:
        if isinstance(prop, dict) and prop.get("type") == CSV_METADATA and isinstance(prop.get("value"), dict):
            return str(prop["value"].get("displayName") or "")
    return ""


def _package(pulled: PulledCatalog, package: str) -> List[Channel]:
    from skomirror.collectors.operators import OperatorCollectionError
    if package not in pulled.catalog.packages:
        raise OperatorCollectionError(f"catalog {pulled.reference} has no package {package!r} (skomirror list "
                                      f"operators --catalog {pulled.reference} lists its packages)")
    return sorted(pulled.catalog.channels_of(package), key=lambda channel: channel.name)


def _head(channel: Channel) -> Tuple[Optional[str], str]:
    from skomirror.catalog.filter import FilterError, channel_head
    try:
        return channel_head(channel), ""
    except FilterError as exc:
        return None, str(exc)


def _channel(pulled: PulledCatalog, package: str, name: str) -> Channel:
    from skomirror.collectors.operators import OperatorCollectionError
    channels = _package(pulled, package)
    found = [channel for channel in channels if channel.name == name]
    if not found:
        raise OperatorCollectionError(f"catalog {pulled.reference}: package {package!r} has no channel {name!r}; "
                                      f"its channels: {', '.join(channel.name for channel in channels)}")
    return found[0]


def _bundles(pulled: PulledCatalog, channel: Channel) -> List[Tuple[str, Optional[Bundle]]]:
    """The channel's entries with their bundles, lowest version first (oc-mirror sorts them by name)."""
    known = pulled.catalog.bundles.get(channel.package, {})
    entries = [(entry.name, known.get(entry.name)) for entry in channel.entries]
    return sorted(entries, key=lambda item: (item[1] is None or item[1].version is None,
                                              item[1].version if item[1] and item[1].version else 0, item[0]))


def packages_listing(pulled: PulledCatalog) -> Tuple[dict, List[str]]:
    packages = [{"name": name, "displayName": display_name(pulled.catalog, name),
                 "defaultChannel": pulled.catalog.default_channel(name) or ""}
                for name in sorted(pulled.catalog.packages)]
    rows = [("NAME", "DISPLAY NAME", "DEFAULT CHANNEL")] + \
        [(p["name"], p["displayName"], p["defaultChannel"]) for p in packages]
    return {"catalog": pulled.reference, "digest": pulled.digest, "packages": packages}, columns(rows)


def channels_listing(pulled: PulledCatalog, package: str) -> Tuple[dict, List[str]]:
    channels = []
    for channel in _package(pulled, package):
        head, problem = _head(channel)
        channels.append({"name": channel.name, "head": head, **({"error": problem} if problem else {})})
    summary = {"name": package, "displayName": display_name(pulled.catalog, package),
               "defaultChannel": pulled.catalog.default_channel(package) or ""}
    lines = columns([("NAME", "DISPLAY NAME", "DEFAULT CHANNEL"),
                     (summary["name"], summary["displayName"], summary["defaultChannel"])])
    lines += [""] + columns([("PACKAGE", "CHANNEL", "HEAD")] +
                            [(package, c["name"], c["head"] or f"ERROR: {c['error']}") for c in channels])
    return {"catalog": pulled.reference, "digest": pulled.digest, "package": dict(summary, channels=channels)}, lines


def bundles_listing(pulled: PulledCatalog, package: str, name: str) -> Tuple[dict, List[str]]:
    channel = _channel(pulled, package, name)
    head, problem = _head(channel)
    bundles = [{"name": entry, "version": str(bundle.version) if bundle and bundle.version else None,
                "image": bundle.image if bundle else None} for entry, bundle in _bundles(pulled, channel)]
    document = {"catalog": pulled.reference, "digest": pulled.digest, "package": package, "channel": name,
                "head": head, **({"error": problem} if problem else {}), "bundles": bundles}
    return document, ["VERSIONS"] + [bundle["version"] or f"{bundle['name']} (no version)" for bundle in bundles]


@click.command("operators", cls=OcMirrorCommand)
@click.option("--catalog", required=True, type=CatalogType(), help="The catalog image to list, e.g. "
              "registry.redhat.io/redhat/redhat-operator-index:v4.15.")
@click.option("--package", help="List this package's channels and their heads.")
@click.option("--channel", help="With --package: list the versions of this channel's bundles.")
@click.option("--workspace", default="skomirror-workspace", show_default=True, metavar="DIR",
              help="Where the catalog is pulled to and its logs go (run's workspace: each reuses what the other "
                   "pulled).")
@authfile_option
@retry_times_option
@tls_option("src")
@cert_dir_option("src")
@output_option
def command(catalog: str, package: Optional[str], channel: Optional[str], workspace: str, authfile: Optional[Path],
            retry_times: int, src_tls_verify: bool, src_cert_dir: Optional[Path], output: str) -> int:
    """List the packages of an operator catalog, a package's channels, or a channel's versions.

    \b
    Examples:
      skomirror list operators --catalog registry.redhat.io/redhat/redhat-operator-index:v4.15
      skomirror list operators --catalog ... --package kiali-ossm
      skomirror list operators --catalog ... --package kiali-ossm --channel stable

    \b
    Exit codes: 0 listed; 1 usage or setup error (skopeo, auth file, workspace);
    4 the catalog cannot be pulled or read, or lacks the package or channel.
    """
    if channel is not None and package is None:
        raise click.UsageError("--channel needs --package (and --catalog)")
    for flag, value in (("--package", package), ("--channel", channel)):
        if value is not None and not value.strip():
            raise click.BadParameter("the name is empty", param_hint=f"'{flag}'")
    from skomirror.run import owner_only_files
    settings = CopySettings(RegistryAccess(src_tls_verify, src_cert_dir), authfile=authfile)
    with owner_only_files():
        pulled = pull_catalog(catalog, Workspace(local_path(workspace)), settings, RetryPolicy(retry_times),
                              Progress(sys.stderr))
    if channel is not None:
        document, lines = bundles_listing(pulled, package, channel)
    elif package is not None:
        document, lines = channels_listing(pulled, package)
    else:
        document, lines = packages_listing(pulled)
    emit(output, document, lines)
    return EXIT_OK
