"""mirror.operators: catalogs -> the bundles and related images they select, and the filtered catalog.

Per catalog: pull the image into the catalog store (with the run's executor),
read its file-based catalog, filter it as oc-mirror v2 does, rebuild it with
only what was kept, and hand the plan every kept bundle image, every related
image, and the catalog itself. A bundle waits for its related images.

An `oci://` catalog is copied out of its local layout into the same store by
the same executor, and from there on is a catalog like any other; it lands
under oc-mirror's name for it (see naming.oci_catalog_name).
"""

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from skomirror.catalog.fbc import Catalog, CatalogError, load_catalog, write_catalog
from skomirror.catalog.filter import CatalogFilter, ChannelFilter, FilterError, PackageFilter, filter_catalog
from skomirror.catalog.image import extract_configs, rebuild_catalog
from skomirror.catalog.layout import LayoutError, OciLayout
from skomirror.catalog.semver import InvalidVersion, Version, VersionRange
from skomirror.collectors.types import CollectedImage, Fetch, ImageKind, wanted_platforms
from skomirror.config.model import Operator
from skomirror.errors import EXIT_OPERATOR, InvalidReference, SkomirrorError
from skomirror.imageref import ImageRef, OciLayoutRef, is_oci_layout
from skomirror.imagefs import ImageReadError
from skomirror.naming import MirrorName, digest_tag, mirror_name, oci_catalog_name
from skomirror.store import MissingFromStore, Store


class OperatorCollectionError(SkomirrorError):
    """A catalog cannot be read or filtered: nothing is copied (exit bit 4, as oc-mirror)."""

    def __init__(self, message: str):
        super().__init__(message, EXIT_OPERATOR)


@dataclass
class CatalogReport:
    """What one catalog entry selected: printed by --dry-run and kept for the cluster resources."""

    catalog: str
    digest: str
    rebuilt: bool
    channels: Dict[str, Dict[str, List[str]]] = field(default_factory=dict)  # package -> channel -> bundles
    bundles: int = 0
    related_images: int = 0


@dataclass
class OperatorContext:
    """What the collector needs from the run: where catalogs go, and a way to pull them."""

    catalogs: Store  # the original catalog images, one layout each
    rebuilt: Store  # the filtered catalogs, named as they will land at the destination
    work: Path  # extracted and filtered FBC directories
    fetch: Fetch


def _range(where: str, minimum: Optional[str], maximum: Optional[str]) -> VersionRange:
    try:
        return VersionRange(Version.parse(minimum) if minimum else None, Version.parse(maximum) if maximum else None)
    except InvalidVersion as exc:
        raise OperatorCollectionError(f"{where}: {exc}") from None


def catalog_filter(operator: Operator, catalog: str) -> CatalogFilter:
    packages = []
    for package in operator.packages:
        channels = [ChannelFilter(channel.name, _range(str(channel.where), channel.min_version, channel.max_version))
                    for channel in package.channels]
        packages.append(PackageFilter(package.name, channels, package.default_channel,
                                      _range(str(package.where), package.min_version, package.max_version)))
    return CatalogFilter(catalog, packages, operator.full)


def _filter_key(spec: CatalogFilter, digest: str) -> str:
    """Names the filtered FBC after what decides it: the filter (no file/line in it) on this catalog digest.

    The ISC entry itself would not do: its `where` moves when a line is added above it.
    """
    entry = dataclasses.asdict(dataclasses.replace(spec, catalog=digest))  # spec.catalog only words messages
    return hashlib.md5(json.dumps(entry, sort_keys=True, default=str).encode()).hexdigest()


LOCAL = "localhost"  # the registry named for images that are read from disk, not pulled


@dataclass(frozen=True)
class CatalogSource:
    """Where one catalog entry is read from: `source` names it (for an oci:// layout, its destination name on
    `localhost`, pinned to the layout's image); `layout` is set for an oci:// catalog."""

    source: ImageRef
    layout: Optional[OciLayout] = None

    def pull(self, operator: Operator) -> CollectedImage:
        """Into the catalog store; a layout's image by digest, so that two layouts never share a store entry."""
        source = dataclasses.replace(self.source, tag=None) if self.layout else self.source
        return CollectedImage(source, operator.catalog, ImageKind.OPERATOR_CATALOG, operator.where,
                              source_store=self.layout, platforms=wanted_platforms(operator.platforms))


def catalog_source(operator: Operator) -> CatalogSource:
    if not is_oci_layout(operator.catalog):
        return CatalogSource(ImageRef.parse(operator.catalog))
    try:
        reference = OciLayoutRef.parse(operator.catalog)
        name = oci_catalog_name(reference, operator.target_catalog)
        layout = OciLayout(reference.path)
        digest = layout.image_digest()
    except (InvalidReference, LayoutError) as exc:
        raise OperatorCollectionError(f"{operator.where}: catalog {operator.catalog}: {exc}") from None
    return CatalogSource(ImageRef(LOCAL, name.path, name.tag, digest), layout)
OCI_CATALOGS = "list operators reads catalogs from registries; for an oci:// layout, push it to a registry first"




def _images_of(catalog: Catalog, operator: Operator) -> List[CollectedImage]:
    """Bundle images and related images of every bundle; a bundle requires its related images."""
    images: List[CollectedImage] = []
    for bundle in catalog.all_bundles():
        where = f"{operator.where}: catalog {operator.catalog}: bundle {bundle.name}"
        references = list(dict.fromkeys([bundle.image] + bundle.related_images))
        parsed = []
        for reference in [r for r in references if r]:
            try:  # ImageRef.parse refuses oci:// and other transports itself
                parsed.append((reference, ImageRef.parse(reference)))
            except InvalidReference as exc:
                role = "bundle image" if reference == bundle.image else "related image"
                raise OperatorCollectionError(f"{where}: {role} {reference!r}: {exc}") from None
        related = tuple(ref.pull_spec for text, ref in parsed if text != bundle.image)
        for text, ref in parsed:
            is_bundle = text == bundle.image
            images.append(CollectedImage(ref, text, ImageKind.OPERATOR_BUNDLE if is_bundle
                                         else ImageKind.OPERATOR_RELATED, operator.where,
                                         requires=related if is_bundle else (),
                                         platforms=wanted_platforms(operator.platforms)))
    return images


def _report(operator: Operator, digest: str, rebuilt: bool, catalog: Catalog, images: List[CollectedImage]):
    channels: Dict[str, Dict[str, List[str]]] = {}
    for channel in catalog.channels:
        channels.setdefault(channel.package, {})[channel.name] = [entry.name for entry in channel.entries]
    return CatalogReport(operator.catalog, digest, rebuilt, channels, len(catalog.all_bundles()),
                         len({i.source.pull_spec for i in images if i.kind is ImageKind.OPERATOR_RELATED}))


def extracted_configs(store: Store, digest: str, configs: Path) -> Path:
    """The FBC of catalog `digest` in `configs`, extracted once per digest.

    Extraction goes to a sibling directory renamed into place when complete, so
    a run stopped half way (Ctrl-C) never leaves a `configs` that looks done.
    """
    if configs.is_dir():
        return configs
    partial = configs.with_name(configs.name + ".partial")
    if partial.exists():  # left by an interrupted run
        shutil.rmtree(partial)
    extract_configs(store, digest, partial)
    os.replace(partial, configs)
    return configs


def catalog_work(work: Path, source: ImageRef, digest: str) -> Path:
    """Where one catalog image's FBC is extracted (`configs`) and filtered: by its name and digest, so that
    `run` and `list operators` share what either extracted."""
    return work / Store.layout_key(mirror_name(source)) / digest.split(":")[1]


def _one_catalog(operator: Operator, origin: CatalogSource, digest: str, context: OperatorContext):
    source = origin.source
    name = mirror_name(source)
    work = catalog_work(context.work, source, digest)
    try:
        catalog = load_catalog(extracted_configs(context.catalogs, digest, work / "configs"))
        whole = operator.full and not operator.packages
        spec = None if whole else catalog_filter(operator, operator.catalog)
        selected = catalog if spec is None else filter_catalog(catalog, spec)
    except FilterError as exc:  # its message names the catalog: the filter carries operator.catalog
        raise OperatorCollectionError(f"{operator.where}: {exc}") from None
    except (CatalogError, ImageReadError, MissingFromStore) as exc:
        raise OperatorCollectionError(f"{operator.where}: catalog {operator.catalog}: {exc}") from None
    images = _images_of(selected, operator)
    pinned = dataclasses.replace(source, digest=digest)
    target_repo = operator.target_catalog or name.path
    if spec is None:  # the whole catalog: copied unchanged, as oc-mirror does
        catalog_image = CollectedImage(pinned, operator.catalog, ImageKind.OPERATOR_CATALOG, operator.where,
                                       target_repo, operator.target_tag or source.tag, source_store=origin.layout,
                                       platforms=wanted_platforms(operator.platforms))
    else:
        filtered = work / f"filtered-{_filter_key(spec, digest)}"
        write_catalog(selected, filtered)
        provisional = MirrorName(target_repo, operator.target_tag or source.tag or "filtered")
        rebuilt = rebuild_catalog(context.catalogs, digest, filtered, context.rebuilt, provisional)
        tag = operator.target_tag or source.tag or digest_tag(rebuilt)  # digest-only: named after the rebuilt image
        if tag != provisional.tag:
            context.rebuilt.tag(MirrorName(target_repo, tag), context.rebuilt.read_blob(rebuilt),
                                json.loads(context.rebuilt.read_blob(rebuilt)).get("mediaType", ""))
        catalog_image = CollectedImage(pinned, operator.catalog, ImageKind.OPERATOR_CATALOG, operator.where,
                                       target_repo, tag, source_store=context.rebuilt)
    return images + [catalog_image], _report(operator, digest, spec is not None, selected, images)


def collect(operators: List[Operator], context: OperatorContext) -> Tuple[List[CollectedImage], List[CatalogReport]]:
    sources = [(operator, catalog_source(operator)) for operator in operators]
    pulls = {}  # one pull per image: two layouts may hold the same one
    for operator, source in sources:
        pull = source.pull(operator)
        pulls.setdefault(pull.source.pull_spec, pull)
    fetched = context.fetch(list(pulls.values()))
    images: List[CollectedImage] = []
    reports: List[CatalogReport] = []
    for operator, source in sources:
        digest, error = fetched[pulls[source.pull(operator).source.pull_spec].origin]
        if digest is None:
            raise OperatorCollectionError(f"{operator.where}: catalog {operator.catalog} cannot be pulled: {error}")
        found, report = _one_catalog(operator, source, digest, context)
        images += found
        reports.append(report)
    return images, reports
