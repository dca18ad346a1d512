"""mirror.platform: the update graph -> release payloads -> their component images.

Payloads are pulled (with the run's executor) into the release store to read
their `image-references`; the plan then gets every payload as
openshift/release-images:<version>-<arch> and every component as
openshift/release:<version>-<arch>-<component>, oc-mirror's names, so the
IDMS of clusters mirrored by oc-mirror keep working. With `graph: true`, the
graph-data image is built too.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from skomirror.collectors.types import CollectedImage, Fetch, ImageKind, wanted_platforms
from skomirror.config.model import Platform
from skomirror.errors import InvalidReference
from skomirror.imagefs import ImageReadError
from skomirror.imageref import ImageRef
from skomirror.release.cincinnati import OCP_UPDATE_URL, OKD_UPDATE_URL, ReleaseCollectionError, UpdateService
from skomirror.release.graph_image import GRAPH_IMAGE, build_graph_image, graph_files, read_graph_data
from skomirror.release.payload import Component, Payload, read_payload
from skomirror.release.selection import ChannelRequest, select_releases
from skomirror.release.signatures import fetch_signature, save_signature
from skomirror.store import MissingFromStore, Store

RELEASE_IMAGES, RELEASE_COMPONENTS = "openshift/release-images", "openshift/release"
GRAPH_SOURCE = ImageRef("localhost", GRAPH_IMAGE.path, GRAPH_IMAGE.tag)  # built here, not pulled


@dataclass
class ReleaseContext:
    store: Store  # payloads pulled to be read, and the graph image built
    fetch: Fetch
    signatures: Path  # where signatures are kept (and shipped from)
    graphs: Path  # every update graph answer, kept for a look afterwards
    update_url: Optional[str] = None  # None: OpenShift's (OKD's for type: okd channels)
    graph_data: str = ""
    graph_base_image: str = ""
    signature_url: str = ""
    require_signatures: bool = False
    warn: Callable[[str], None] = print


@dataclass
class ReleaseReport:
    arch: str
    versions: List[str] = field(default_factory=list)


def _selected_payloads(platform: Platform, context: ReleaseContext) -> List[Tuple[str, str]]:
    """(arch or "", payload reference) for every release to mirror; the version is read from the payload."""
    if platform.release:
        return [("", platform.release)]
    chosen = []
    for arch in platform.architectures or ["amd64"]:
        for kind in ("ocp", "okd"):
            requests = [ChannelRequest(c.name, c.min_version, c.max_version, c.full, c.shortest_path,
                                       f"{c.where}: ") for c in platform.channels if (c.type or "ocp") == kind]
            if requests:
                url = context.update_url or (OKD_UPDATE_URL if kind == "okd" else OCP_UPDATE_URL)
                service = UpdateService(url, save_dir=context.graphs)
                chosen += [(arch, r.payload) for r in select_releases(service, arch, requests, context.warn)]
    if platform.channels and not chosen:
        raise ReleaseCollectionError(f"{platform.where}: no release images found")
    return chosen


def _signature(digest: str, context: ReleaseContext) -> None:
    try:
        save_signature(context.signatures, digest, fetch_signature(context.signature_url, digest))
    except OSError as exc:
        message = f"no signature for release {digest} at {context.signature_url}: {getattr(exc, 'reason', exc)}"
        if context.require_signatures:
            raise ReleaseCollectionError(message + " (--require-signatures)") from None
        context.warn(message + "; the cluster will not verify this release without it")


def _graph_image(platform: Platform, context: ReleaseContext) -> CollectedImage:
    """The graph-data tarball is read and checked first: a bad --graph-data fails before the base image is pulled."""
    files = graph_files(read_graph_data(context.graph_data), f"--graph-data {context.graph_data}")
    base = ImageRef.parse(context.graph_base_image)
    fetched = context.fetch([CollectedImage(base, context.graph_base_image, ImageKind.GRAPH, platform.where)])
    digest, error = fetched[context.graph_base_image]
    if digest is None:
        raise ReleaseCollectionError(f"{platform.where}: graph: true needs the base image "
                                     f"{context.graph_base_image}: {error}")
    build_graph_image(context.store, digest, files)
    return CollectedImage(GRAPH_SOURCE, f"graph data from {context.graph_data}", ImageKind.GRAPH, platform.where,
                          source_store=context.store)


def collect(platform: Platform, context: ReleaseContext) -> Tuple[List[CollectedImage], List[ReleaseReport]]:
    selected = _selected_payloads(platform, context)
    wanted = wanted_platforms(platform.platforms)
    try:
        pulls = [CollectedImage(ImageRef.parse(payload), payload, ImageKind.RELEASE, platform.where,
                                platforms=wanted) for _, payload in selected]
    except InvalidReference as exc:
        raise ReleaseCollectionError(f"{platform.where}: release payload: {exc}") from None
    fetched = context.fetch(pulls)
    images: List[CollectedImage] = []
    reports: Dict[str, ReleaseReport] = {}
    for (arch, reference), pull in zip(selected, pulls):
        digest, error = fetched[reference]
        if digest is None:
            raise ReleaseCollectionError(f"{platform.where}: release {reference} cannot be pulled: {error}")
        try:
            payload: Payload = read_payload(context.store, digest, f"{platform.where}: release {reference}")
        except (ImageReadError, MissingFromStore) as exc:
            raise ReleaseCollectionError(f"{platform.where}: release {reference}: {exc}") from None
        if arch and payload.architecture != arch:
            payload = replace(payload, architecture=arch)
        source = replace(pull.source, digest=digest)
        images.append(CollectedImage(source, reference, ImageKind.RELEASE, platform.where, RELEASE_IMAGES,
                                     payload.tag, platforms=wanted))
        kubevirt: List[Component] = []
        if platform.kube_virt_container:  # as oc-mirror: a release without one is a warning, not a failure
            kubevirt, why_not = payload.kubevirt_components()
            if why_not:
                context.warn(f"{platform.where.at('kubeVirtContainer')}: {why_not}")
        for component in payload.components + kubevirt:
            try:
                ref = ImageRef.parse(component.image)
            except InvalidReference as exc:
                raise ReleaseCollectionError(f"{platform.where}: release {payload.version} component "
                                             f"{component.name}: {exc}") from None
            kind = ImageKind.KUBEVIRT if component in kubevirt else ImageKind.RELEASE_CONTENT
            images.append(CollectedImage(ref, component.image, kind, platform.where, RELEASE_COMPONENTS,
                                         payload.component_tag(component), platforms=wanted))
        _signature(digest, context)
        reports.setdefault(payload.architecture, ReleaseReport(payload.architecture)).versions.append(payload.version)
    if platform.graph:
        images.append(_graph_image(platform, context))
    return images, list(reports.values())
