"""Cluster resources for what was mirrored: IDMS, ITMS, CatalogSources, UpdateService, signatures.

Same files, object names and scoping as oc-mirror v2 writes into
working-dir/cluster-resources, so clusters can switch without changing what
they apply: images pulled by digest go into ImageDigestMirrorSets, images
pulled by tag into ImageTagMirrorSets, one object per family (release,
operator, generic); catalogs get a CatalogSource each.
"""

import hashlib
import json
import re
import shutil
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Protocol, Set, Tuple

import yaml

from skomirror import __version__
from skomirror.collectors.types import ImageKind
from skomirror.config.loader import catalog_source_template_problem, yaml_problem
from skomirror.config.model import ImageSetConfiguration
from skomirror.imageref import ImageRef
from skomirror.records import ImageRecord

IDMS_FILE, ITMS_FILE = "idms-oc-mirror.yaml", "itms-oc-mirror.yaml"
CATALOG_NAMESPACE = "openshift-marketplace"
# catalogs get CatalogSources instead; a chart is pulled by helm, never by a cluster
NO_MIRROR_SETS = (ImageKind.OPERATOR_CATALOG, ImageKind.GRAPH, ImageKind.HELM_CHART)
_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?\Z")  # what a CatalogSource's Service name must be
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_SET_BY_SKOMIRROR = ("image", "sourceType", "configMap", "address")  # address would bypass the mirrored image
_CATEGORY = {"release": "release", "operator": "operator"}  # additional and helm images are "generic"


def _annotations() -> Dict[str, str]:
    return {"createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "createdBy": "skomirror",
            "skomirror_version": __version__}


def _dump(documents: Iterable[dict], separated: bool) -> str:
    prefix = "---\n" if separated else ""
    return "".join(prefix + yaml.safe_dump(document, sort_keys=True, default_flow_style=False)
                   for document in documents)


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def mirror_pair(source: ImageRef, destination: ImageRef, repository_scope: bool) -> Tuple[str, str]:
    """(source, mirror) for one image: the namespaces when the destination keeps the source's path, else repos."""
    keeps_path = destination.path == source.path or destination.path.endswith("/" + source.path)
    if not repository_scope and keeps_path:
        source_ns, destination_ns = _parent(source.path), _parent(destination.path)
        return ("/".join(filter(None, (source.registry, source_ns))),
                "/".join(filter(None, (destination.registry, destination_ns))))
    return source.repository, destination.repository


class Mirrored(Protocol):
    """What the resources need of an image at the destination: a PlannedImage, or one that `skomirror merge`
    read back from a shard's records."""

    source: ImageRef
    origin: str
    kind: ImageKind

    @property
    def destination(self) -> str: ...


def mirror_sets(images: Iterable[Mirrored], repository_scope: bool) -> Tuple[List[dict], List[dict]]:
    """IDMS and ITMS objects: digest-pulled (and release payload) images, and tag-pulled images."""
    by_digest: Dict[str, Dict[str, Set[str]]] = {}
    by_tag: Dict[str, Dict[str, Set[str]]] = {}
    for image in images:
        if image.kind in NO_MIRROR_SETS:
            continue
        category = _CATEGORY.get(image.kind.group, "generic")
        source, mirror = mirror_pair(image.source, ImageRef.parse(image.destination), repository_scope)
        if image.source.digest or image.kind is ImageKind.RELEASE:
            by_digest.setdefault(category, {}).setdefault(source, set()).add(mirror)
        if image.source.tag:
            by_tag.setdefault(category, {}).setdefault(source, set()).add(mirror)

    def objects(kind: str, prefix: str, key: str, groups) -> List[dict]:
        return [{"apiVersion": "config.openshift.io/v1", "kind": kind,
                 "metadata": {"name": f"{prefix}-{category}-0", "annotations": _annotations()},
                 "spec": {key: [{"source": source, "mirrors": sorted(mirrors)}
                                for source, mirrors in sorted(entries.items())]}}
                for category, entries in sorted(groups.items())]

    return (objects("ImageDigestMirrorSet", "idms", "imageDigestMirrors", by_digest),
            objects("ImageTagMirrorSet", "itms", "imageTagMirrors", by_tag))


def kubernetes_name(name: str) -> str:
    """`name` when it is a valid DNS-1035 label (what oc-mirror checks, and OLM needs for the catalog's Service);
    else lower case, `-` for any other character, at most 63 characters, and a hash of `name` so that two names
    made alike stay apart. The same `name` always gives the same result: a rerun updates, never adds."""
    if _DNS_1035_LABEL.match(name):
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    cleaned = re.sub(r"[^a-z0-9-]", "-", name.lower())
    return f"{cleaned[:63 - len(digest) - 1].strip('-')}-{digest}"


def catalog_source_name(destination: ImageRef) -> str:
    """oc-mirror's `cs-<last path component>-<suffix>`; the suffix comes from the tag (or digest). Where oc-mirror's
    name would not be a valid Kubernetes name (oc-mirror then fails), `kubernetes_name` makes it one."""
    tag = destination.tag or ""
    if tag.startswith("sha256-"):
        suffix = tag[len("sha256-"):][:12]
    elif tag:
        suffix = re.sub(r"[^a-z0-9-]", "-", tag[:12].lower())
    else:
        suffix = (destination.digest or ":0").split(":")[1][:12] or "0"
    return kubernetes_name(f"cs-{destination.path.rsplit('/', 1)[-1]}-{suffix}".replace(".", "-"))


def manifest_template(template: Optional[dict]) -> Tuple[dict, dict]:
    """(metadata, spec) of a CatalogSource template that belong in a manifest to apply: its labels and
    annotations (not kubectl's last-applied copy) and its spec, without what skomirror sets. Not its status,
    creationTimestamp, uid, resourceVersion, managedFields or anything else the cluster wrote."""
    template = template if isinstance(template, dict) else {}
    metadata = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    kept = {}
    if isinstance(metadata.get("labels"), dict) and metadata["labels"]:
        kept["labels"] = dict(metadata["labels"])
    annotations = {key: value for key, value in (metadata.get("annotations") or {}).items() if key != _LAST_APPLIED} \
        if isinstance(metadata.get("annotations"), dict) else {}
    if annotations:
        kept["annotations"] = annotations
    spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    return kept, {key: value for key, value in spec.items() if key not in _SET_BY_SKOMIRROR}


def catalog_objects(image: Mirrored, template: Optional[dict]) -> Tuple[dict, dict]:
    """The CatalogSource (from the user's template, if any) and ClusterCatalog of one mirrored catalog."""
    destination = ImageRef.parse(image.destination)
    name = catalog_source_name(destination)
    metadata, spec = manifest_template(template)
    metadata = dict(metadata, name=name, namespace=CATALOG_NAMESPACE)
    metadata["annotations"] = dict(metadata.get("annotations") or {}, **_annotations())
    source = {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource", "metadata": metadata,
              "spec": dict(spec, image=str(destination), sourceType="grpc")}
    cluster_catalog = {"apiVersion": "olm.operatorframework.io/v1", "kind": "ClusterCatalog",
                       "metadata": {"name": "cc" + name[2:], "annotations": _annotations()},
                       "spec": {"source": {"type": "Image", "image": {"ref": str(destination)}}}}
    return source, cluster_catalog


def load_template(path: Path, warn: Callable[[str], None]) -> Optional[dict]:
    """A user's CatalogSource template (targetCatalogSourceTemplate), as it belongs in a manifest (see
    `manifest_template`); an unusable one is warned about and skipped, as oc-mirror does. The loader has already
    refused one that was there and unusable: what is left is a template missing on this machine."""
    try:
        template = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        problem = catalog_source_template_problem(template)
        if problem:
            raise ValueError(problem)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        warn(f"targetCatalogSourceTemplate {path}: {getattr(exc, 'strerror', None) or exc}; writing a plain "
             f"CatalogSource instead")
        return None
    except yaml.YAMLError as exc:
        warn(f"targetCatalogSourceTemplate {yaml_problem(exc, str(path))}; writing a plain CatalogSource instead")
        return None
    if (template.get("spec") or {}).get("address"):
        warn(f"targetCatalogSourceTemplate {path}: spec.address is left out: the CatalogSource must serve the "
             f"mirrored catalog image")
    metadata, spec = manifest_template(template)
    return {"apiVersion": template["apiVersion"], "kind": template["kind"], "metadata": metadata, "spec": spec}


def update_service(images: List[Mirrored]) -> Optional[dict]:
    """The OpenShift Update Service pointed at the mirrored graph image and release payloads (graph: true)."""
    graph = next((image for image in images if image.kind is ImageKind.GRAPH), None)
    release = next((image for image in images if image.kind is ImageKind.RELEASE), None)
    if graph is None or release is None:
        return None
    return {"apiVersion": "updateservice.operator.openshift.io/v1", "kind": "UpdateService",
            "metadata": {"name": "update-service-oc-mirror", "namespace": "openshift-update-service",
                         "annotations": _annotations()},
            "spec": {"graphDataImage": graph.destination,
                     "releases": ImageRef.parse(release.destination).repository, "replicas": 2}}


def write_cluster_resources(images: List[Mirrored], directory: Path, repository_scope: bool,
                            templates: Dict[str, Optional[dict]], signatures: Dict[str, bytes]) -> List[Path]:
    """Recreate `directory` with the resources for `images` (those now at the destination)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    written = []
    idms, itms = mirror_sets(images, repository_scope)
    for file_name, documents in ((IDMS_FILE, idms), (ITMS_FILE, itms)):
        if documents:
            (directory / file_name).write_text(_dump(documents, separated=True))
            written.append(directory / file_name)
    service = update_service(images)
    if service:
        (directory / "updateService.yaml").write_text(_dump([service], separated=False))
        written.append(directory / "updateService.yaml")
    if signatures:
        from skomirror.release.signatures import signature_configmap  # only where releases were mirrored
        configmap = signature_configmap(signatures, _annotations())  # one object: .json and .yaml agree
        (directory / "signature-configmap.json").write_text(json.dumps(configmap, indent=2) + "\n")
        (directory / "signature-configmap.yaml").write_text(_dump([configmap], separated=False))
        written += [directory / "signature-configmap.json", directory / "signature-configmap.yaml"]
    for image in images:
        if image.kind is ImageKind.OPERATOR_CATALOG:
            catalog_source, cluster_catalog = catalog_objects(image, templates.get(image.origin))
            for document in (catalog_source, cluster_catalog):
                path = directory / f"{document['metadata']['name']}.yaml"
                path.write_text(_dump([document], separated=False))
                written.append(path)
    return written


def catalog_templates(config: Optional[ImageSetConfiguration], warn: Callable[[str], None]) -> Dict[str, Optional[dict]]:
    """Each catalog's targetCatalogSourceTemplate, as it belongs in a manifest (see `load_template`)."""
    return {operator.catalog: load_template(Path(operator.target_catalog_source_template), warn)
            for operator in (config.mirror.operators if config else []) if operator.target_catalog_source_template}


def release_signatures(records: List[ImageRecord], signatures_dir: Path) -> Dict[str, bytes]:
    from skomirror.release.signatures import load_signatures
    return load_signatures(signatures_dir, [record.digest for record in records
                                            if record.image.kind is ImageKind.RELEASE and record.digest])


def write_for_run(records: List[ImageRecord], config: Optional[ImageSetConfiguration], signatures_dir: Path,
                  directory: Path, repository_scope: bool, warn: Callable[[str], None],
                  say: Callable[[str], None]) -> List[Path]:
    """The last step of a run into a registry: resources for the images now at the destination."""
    present = [record.image for record in records if record.status.mirrored and not record.image.signs]
    written = write_cluster_resources(present, directory, repository_scope, catalog_templates(config, warn),
                                      release_signatures(records, signatures_dir))
    if written:
        say(f"cluster resources: {len(written)} file(s) in {directory}")
    return written
