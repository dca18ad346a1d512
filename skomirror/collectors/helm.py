"""mirror.helm: each chart rendered by Helm's engine, the images its manifests name, and the chart itself.

As oc-mirror v2: a chart comes from helm.local (an archive or a directory), an
HTTP chart repository (index.yaml) or, beyond oc-mirror, an oci:// repository;
it is rendered over its defaults (and the entry's valuesFiles, then values),
and every image found at oc-mirror's image paths and the entry's imagePaths is
mirrored under oc-mirror's names. The chart is mirrored too, as an OCI
artifact, after its images: an OCI chart where its path says; a chart from an
HTTP repository at `charts/<the repository URL's path>/<name>:<version>`; a
local chart at `charts/<name>:<version>`. A chart that cannot be had or
rendered stops the run before any copy, with exit bit 16.
"""

import dataclasses
import hashlib
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import yaml

from skomirror.collectors.types import CollectedImage, Fetch, ImageKind, wanted_platforms
from skomirror.config.model import Helm, HelmChart, HelmLocalChart, HelmRepository, Where
from skomirror.errors import EXIT_HELM, InvalidReference, SkomirrorError
from skomirror.helm.charts import (ChartProblem, archive_metadata, chart_archive, download, every_chart, http_get,
                                   index_url, oci_tag, parse_index, pick_version, put_chart)
from skomirror.helm.choose import find_engine
from skomirror.helm.engine import HelmEngine, HelmEngineError, merge_values
from skomirror.helm.images import ManifestProblem, find_images
from skomirror.imageref import ImageRef, check_repository_path
from skomirror.naming import MirrorName
from skomirror.skopeo.command import RegistryAccess
from skomirror.store import Store

Entry = Union[HelmChart, HelmLocalChart]
CHARTS_PATH = "charts"  # where charts from HTTP repositories and local ones land under DEST
_SHOWN = 5


class HelmCollectionError(SkomirrorError):
    """A chart cannot be read or rendered: nothing is copied (exit bit 16, oc-mirror's helm bit)."""

    def __init__(self, message: str):
        super().__init__(message, EXIT_HELM)


@dataclass
class HelmContext:
    """What the collector needs from the run."""

    store: Store  # OCI charts are pulled into it, the others packed into it as OCI artifacts
    work: Path  # archives, values handed to the engine
    fetch: Fetch
    base: Path  # the ISC's directory: valuesFiles are relative to it
    access: RegistryAccess  # TLS towards HTTP chart repositories (the source side's)
    warn: Callable[[str], None]
    engine: Optional[HelmEngine] = None  # found on first use
    indexes: Dict[str, dict] = field(default_factory=dict)  # repository URL -> its charts, read once
    packed: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # name packed -> (digest, chart label)


@dataclass
class _Chart:
    """One chart to render: its archive, the ISC entry that asks for it, and where the chart itself goes."""

    label: str
    entry: Entry
    archive: bytes
    source: ImageRef  # the chart as an OCI artifact: pulled from there, or a name for one packed here
    packed: Optional[MirrorName] = None  # where it is packed into the store (None: pulled, by digest)


def _fail(where: Where, label: str, problem: object) -> HelmCollectionError:
    return HelmCollectionError(f"{where}: chart {label}: {problem}")


def _repository_path(url: str) -> str:
    """The URL's path as a repository path: lower case, other characters as `-`, empty components dropped."""
    parts = [re.sub(r"[^a-z0-9._-]+", "-", part.lower()).strip("._-")
             for part in urllib.parse.urlsplit(url).path.split("/")]
    return "/".join(part for part in parts if part)


def _packed_name(where: Where, label: str, prefix: str, metadata: dict) -> MirrorName:
    path = "/".join(filter(None, (CHARTS_PATH, prefix, str(metadata["name"]))))
    try:
        return MirrorName(check_repository_path(path), oci_tag(str(metadata["version"])))
    except InvalidReference as exc:
        raise _fail(where, label, f"cannot be pushed as an OCI artifact at {path}: {exc}") from None


def _local(entry: HelmLocalChart, context: HelmContext, engine: HelmEngine) -> _Chart:
    path = Path(entry.path)
    try:
        if path.is_dir():
            work = context.work / "packaged" / hashlib.sha256(str(path.absolute()).encode()).hexdigest()[:16]
            archive = engine.package(path, work).read_bytes()
        else:
            archive = path.read_bytes()
        metadata = archive_metadata(archive, str(path))
    except (OSError, ChartProblem, HelmEngineError) as exc:
        raise _fail(entry.where, entry.path, getattr(exc, "strerror", None) or exc) from None
    if entry.version and str(metadata["version"]) != entry.version:
        raise _fail(entry.where, entry.path, f"is version {metadata['version']}, not {entry.version} as written")
    name = _packed_name(entry.where, entry.path, "", metadata)
    return _Chart(entry.path, entry, archive, ImageRef("localhost", name.path, name.tag), name)


def _from_index(repository: HelmRepository, context: HelmContext) -> List[_Chart]:
    url = repository.url
    try:
        if url not in context.indexes:
            context.indexes[url] = parse_index(http_get(index_url(url), context.access), index_url(url))
        charts = context.indexes[url]
        entries = repository.charts or [HelmChart(name=version.name, version=version.version, where=repository.where)
                                        for version in every_chart(charts)]
    except ChartProblem as exc:
        raise HelmCollectionError(f"{repository.where}: chart repository {url}: {exc}") from None
    found = []
    for entry in entries:
        label = f"{entry.name} from {url}"
        try:
            picked = pick_version(charts, entry.name, entry.version, index_url(url))
            archive = download(url, picked, context.access)
            metadata = archive_metadata(archive, f"{entry.name} {picked.version}")
        except ChartProblem as exc:
            raise _fail(entry.where, label, exc) from None
        name = _packed_name(entry.where, label, _repository_path(url), metadata)
        host = urllib.parse.urlsplit(url).netloc or "localhost"
        found.append(_Chart(f"{entry.name} {picked.version} from {url}", entry, archive,
                            ImageRef(host, name.path, name.tag), name))
    return found


def _oci_reference(repository: HelmRepository, chart: HelmChart) -> ImageRef:
    text = f"{repository.url[len('oci://'):].strip('/')}/{chart.name}:{oci_tag(chart.version or '')}"
    try:
        return ImageRef.parse(text)
    except InvalidReference as exc:
        raise HelmCollectionError(f"{chart.where}: chart {chart.name!r}: oci://{text}: {exc}") from None


def _from_registries(repositories: List[HelmRepository], context: HelmContext) -> List[_Chart]:
    wanted = [(chart, _oci_reference(repository, chart)) for repository in repositories for chart in repository.charts]
    if not wanted:
        return []
    pulls = [CollectedImage(ref, f"oci://{ref}", ImageKind.HELM_CHART, chart.where) for chart, ref in wanted]
    fetched = context.fetch(pulls)
    found = []
    for chart, ref in wanted:
        label = f"oci://{ref}"
        digest, error = fetched[label]
        if digest is None:
            raise _fail(chart.where, label, f"cannot be pulled: {error}")
        try:
            archive = chart_archive(context.store, digest, label)
        except ChartProblem as exc:
            raise _fail(chart.where, label, exc) from None
        found.append(_Chart(label, chart, archive, dataclasses.replace(ref, digest=digest)))
    return found


def _values(entry: Entry, base: Path, label: str) -> Dict[str, object]:
    """valuesFiles in order, then values, merged as `helm -f` merges them."""
    merged: Dict[str, object] = {}
    for name in entry.values_files:
        path = base / name
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(entry.where, label, f"valuesFiles {path}: {getattr(exc, 'strerror', None) or exc}") from None
        except yaml.YAMLError as exc:
            raise _fail(entry.where, label, f"valuesFiles {path}: not YAML: {str(exc).splitlines()[0]}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise _fail(entry.where, label, f"valuesFiles {path}: expected a mapping of values")
        merged = merge_values(merged, loaded or {})
    return merge_values(merged, entry.values)


def _images_of(chart: _Chart, context: HelmContext, engine: HelmEngine) -> List[CollectedImage]:
    entry = chart.entry
    key = hashlib.sha256(f"{chart.label}\n{chart.source}".encode()).hexdigest()[:16]
    work = context.work / key
    work.mkdir(parents=True, exist_ok=True)
    archive = work / "chart.tgz"
    archive.write_bytes(chart.archive)
    try:
        found = find_images(engine.render(archive, _values(entry, context.base, chart.label), work),
                            entry.image_paths)
    except (HelmEngineError, ManifestProblem) as exc:
        raise _fail(entry.where, chart.label, f"cannot be rendered ({engine.description}): {exc}") from None
    if found.not_images:
        shown = ", ".join(f"{text!r} ({why})" for text, why in list(found.not_images.items())[:_SHOWN])
        more = f" and {len(found.not_images) - _SHOWN} more" if len(found.not_images) > _SHOWN else ""
        context.warn(f"{entry.where}: chart {chart.label}: not mirrored, found at its image paths but not image "
                     f"references: {shown}{more}")
    if not found.images:
        context.warn(f"{entry.where}: chart {chart.label}: its rendered manifests name no image at oc-mirror's "
                     f"image paths; add the paths where it names them to imagePaths")
    platforms = wanted_platforms(entry.platforms)
    return [CollectedImage(ref, text, ImageKind.HELM, entry.where, platforms=platforms)
            for text, ref in found.images.items()]


def _chart_image(chart: _Chart, images: List[CollectedImage], context: HelmContext) -> CollectedImage:
    requires = tuple(dict.fromkeys(image.source.pull_spec for image in images))
    if chart.packed is None:  # pulled from a registry: copied from there like an image
        return CollectedImage(chart.source, chart.label, ImageKind.HELM_CHART, chart.entry.where,
                              target_tag=chart.source.tag, requires=requires)
    metadata = archive_metadata(chart.archive, chart.label)
    digest = put_chart(context.store, chart.packed, chart.archive, metadata)
    earlier = context.packed.setdefault(str(chart.packed), (digest, chart.label))
    if earlier[0] != digest:  # same name and version, other bytes: one tag cannot hold both
        raise _fail(chart.entry.where, chart.label, f"differs from {earlier[1]}, and both would land at "
                                                    f"{chart.packed}; mirror one of them")
    return CollectedImage(chart.source, chart.label, ImageKind.HELM_CHART, chart.entry.where, chart.packed.path,
                          chart.packed.tag, source_store=context.store, requires=requires)


def collect(helm: Helm, context: HelmContext) -> List[CollectedImage]:
    engine = context.engine = context.engine or find_engine()
    context.store.prepare()
    charts = [_local(entry, context, engine) for entry in helm.local]
    for repository in helm.repositories:
        if not repository.url.startswith("oci://"):
            charts += _from_index(repository, context)
    charts += _from_registries([r for r in helm.repositories if r.url.startswith("oci://")], context)
    collected: List[CollectedImage] = []
    for chart in charts:
        images = _images_of(chart, context, engine)
        collected += images + [_chart_image(chart, images, context)]
    return collected
