"""The ImageSetConfiguration schema, as typed objects.

Each field names its YAML key, the apiVersions that accept it and, for
scalars, a check. The loader walks these declarations, so the schema is
written once and validation cannot drift from it.
"""

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from skomirror.catalog.semver import InvalidVersion, Version
from skomirror.errors import InvalidReference, shown
from skomirror.helm import jsonpath
from skomirror.imageref import ImageRef, OciLayoutRef, check_repository_path, check_tag, is_oci_layout
from skomirror.linear_regex import PatternError, compile_pattern

V1ALPHA2 = "mirror.openshift.io/v1alpha2"
V2ALPHA1 = "mirror.openshift.io/v2alpha1"
API_VERSIONS = (V2ALPHA1, V1ALPHA2)
KIND = "ImageSetConfiguration"
DELETE_KIND = "DeleteImageSetConfiguration"
ARCHITECTURES = ("amd64", "arm64", "ppc64le", "s390x", "multi")
CHANNEL_TYPES = ("ocp", "okd")

Check = Callable[[object], Optional[str]]


@dataclass(frozen=True)
class Where:
    """Where a value was written, for error messages: `isc.yaml:12: mirror.additionalImages[2]`."""

    file: str
    line: int
    path: str
    keys: Tuple[Tuple[str, int], ...] = field(default=(), compare=False, repr=False)  # (YAML key, its line)

    def child(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def line_of(self, key: str) -> int:
        return dict(self.keys).get(key, self.line)

    def at(self, key: str) -> str:
        """`isc.yaml:14: mirror.operators[0].targetName`: where one key of this mapping was written."""
        return f"{self.file}:{self.line_of(key)}: {self.child(key)}"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(top level)'}"


NOWHERE = Where("<memory>", 0, "")


def key(name: str, *, required: bool = False, versions: Tuple[str, ...] = API_VERSIONS,
        check: Optional[Check] = None, default=None, factory=None):
    """Declare a dataclass field read from the YAML key `name`."""
    metadata = {"yaml": name, "required": required, "versions": versions, "check": check}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def where():
    return field(default=NOWHERE, compare=False, repr=False)


# --- scalar checks: return an error message, or None when the value is fine ---

def _reason(error: Exception) -> str:
    return str(error)


def image_reference(value) -> Optional[str]:
    try:
        ImageRef.parse(value)
    except InvalidReference as exc:
        return _reason(exc)
    return None


def catalog_reference(value) -> Optional[str]:
    if is_oci_layout(value):
        try:
            OciLayoutRef.parse(value)
        except InvalidReference as exc:
            return _reason(exc)
        return None
    return image_reference(value)


def repository_path(value) -> Optional[str]:
    try:
        check_repository_path(value)
    except InvalidReference as exc:
        return _reason(exc)
    return None


def tag(value) -> Optional[str]:
    try:
        check_tag(value)
    except InvalidReference as exc:
        return _reason(exc)
    return None


def regular_expression(value) -> Optional[str]:
    """blockedImages: searched in linear time (skomirror.linear_regex), so what needs backtracking is refused."""
    try:
        compile_pattern(value)
    except PatternError as exc:
        if exc.malformed:
            return f"invalid regular expression {shown(value)}: {exc}"
        return f"the regular expression {shown(value)} cannot be used: {exc}"
    return None


def one_of(*choices: str) -> Check:
    def check(value) -> Optional[str]:
        return None if value in choices else f"{shown(value)} is not one of: {', '.join(choices)}"
    return check


def semantic_version(value) -> Optional[str]:
    """minVersion/maxVersion of operator packages and channels: oc-mirror refuses what is not semver."""
    if value == "":
        return None  # unset, as oc-mirror reads an empty string
    try:
        Version.parse(value)
    except InvalidVersion as exc:
        return f"{exc}; write a version such as 1.2.3"
    return None


def non_negative(value) -> Optional[str]:
    return None if value >= 0 else f"{value} must be 0 or more"


def non_empty(value) -> Optional[str]:
    return None if value.strip() else "must not be empty"


def chart_version(value) -> Optional[str]:
    """A chart is mirrored at one version: Helm's ranges (`^1.2`, `1.x`) would pick a different one each run."""
    try:
        Version.parse(value)
    except InvalidVersion:
        return (f"{value!r} is not a chart version; write one exact version such as 1.2.3, or leave version out "
                f"for the newest release")
    return None


def image_path(value) -> Optional[str]:
    return jsonpath.problem(value)


def chart_repository_url(value) -> Optional[str]:
    if not value.startswith(("http://", "https://", "oci://")):
        return f"{value!r} is not a chart repository URL; write https://..., http://... or oci://registry/path"
    return None if value.split("://", 1)[1].strip("/") else f"{value!r} names no host"


V1_ONLY = (V1ALPHA2,)
V2_ONLY = (V2ALPHA1,)


@dataclass(frozen=True)
class PlatformSpec:
    """One platform of a multi-arch image, as an OCI index names it (os linux when left out)."""

    architecture: str = key("architecture", required=True, check=non_empty)
    os: Optional[str] = key("os")
    variant: Optional[str] = key("variant")
    where: Where = where()


@dataclass(frozen=True)
class ReleaseChannel:
    name: str = key("name", required=True, check=non_empty)
    type: Optional[str] = key("type", check=one_of(*CHANNEL_TYPES))
    min_version: Optional[str] = key("minVersion")
    max_version: Optional[str] = key("maxVersion")
    shortest_path: bool = key("shortestPath", default=False)
    full: bool = key("full", default=False)
    where: Where = where()


@dataclass(frozen=True)
class Platform:
    graph: bool = key("graph", default=False)
    channels: List[ReleaseChannel] = key("channels", factory=list)
    architectures: List[str] = key("architectures", factory=list, check=one_of(*ARCHITECTURES))
    platforms: List[PlatformSpec] = key("platforms", factory=list, versions=V2_ONLY)
    release: Optional[str] = key("release", versions=V2_ONLY, check=image_reference)
    kube_virt_container: bool = key("kubeVirtContainer", default=False, versions=V2_ONLY)
    where: Where = where()


@dataclass(frozen=True)
class IncludeChannel:
    name: str = key("name", required=True, check=non_empty)
    min_version: Optional[str] = key("minVersion", check=semantic_version)
    max_version: Optional[str] = key("maxVersion", check=semantic_version)
    min_bundle: Optional[str] = key("minBundle", versions=V1_ONLY)
    where: Where = where()


@dataclass(frozen=True)
class IncludePackage:
    name: str = key("name", required=True, check=non_empty)
    channels: List[IncludeChannel] = key("channels", factory=list)
    default_channel: Optional[str] = key("defaultChannel")
    min_version: Optional[str] = key("minVersion", check=semantic_version)
    max_version: Optional[str] = key("maxVersion", check=semantic_version)
    min_bundle: Optional[str] = key("minBundle", versions=V1_ONLY)
    where: Where = where()


@dataclass(frozen=True)
class Operator:
    catalog: str = key("catalog", required=True, check=catalog_reference)
    packages: List[IncludePackage] = key("packages", factory=list)
    full: bool = key("full", default=False)
    target_catalog: Optional[str] = key("targetCatalog", check=repository_path)
    target_tag: Optional[str] = key("targetTag", check=tag)
    target_name: Optional[str] = key("targetName", versions=V1_ONLY, check=repository_path)  # the loader honours it
    original_ref: Optional[str] = key("originalRef", versions=V1_ONLY)
    skip_dependencies: bool = key("skipDependencies", default=False)
    target_catalog_source_template: Optional[str] = key("targetCatalogSourceTemplate", versions=V2_ONLY)
    platforms: List[PlatformSpec] = key("platforms", factory=list, versions=V2_ONLY)
    where: Where = where()


@dataclass(frozen=True)
class AdditionalImage:
    name: str = key("name", required=True, check=image_reference)
    target_repo: Optional[str] = key("targetRepo", versions=V2_ONLY, check=repository_path)
    target_tag: Optional[str] = key("targetTag", versions=V2_ONLY, check=tag)
    platforms: List[PlatformSpec] = key("platforms", factory=list, versions=V2_ONLY)
    where: Where = where()


@dataclass(frozen=True)
class BlockedImage:
    name: str = key("name", required=True, check=regular_expression)
    where: Where = where()


@dataclass(frozen=True)
class SampleImage:
    name: str = key("name", required=True)
    where: Where = where()


@dataclass(frozen=True)
class HelmChart:
    """A chart of a repository; `values`/`valuesFiles` (skomirror's, as oc-mirror's open RFE-8713 has them) are
    merged over the chart's defaults, files first in order, then `values`."""

    name: str = key("name", required=True, check=non_empty)
    version: Optional[str] = key("version", check=chart_version)
    path: Optional[str] = key("path")  # oc-mirror's Chart type has it; for a repository chart it is refused
    image_paths: List[str] = key("imagePaths", factory=list, check=image_path)
    values: Dict[str, object] = key("values", factory=dict, versions=V2_ONLY)
    values_files: List[str] = key("valuesFiles", factory=list, versions=V2_ONLY, check=non_empty)
    platforms: List[PlatformSpec] = key("platforms", factory=list, versions=V2_ONLY)
    where: Where = where()


@dataclass(frozen=True)
class HelmRepository:
    name: str = key("name", required=True, check=non_empty)
    url: str = key("url", required=True, check=chart_repository_url)
    charts: List[HelmChart] = key("charts", factory=list)
    where: Where = where()


@dataclass(frozen=True)
class HelmLocalChart:
    name: str = key("name", required=True, check=non_empty)
    path: str = key("path", required=True, check=non_empty)
    version: Optional[str] = key("version", check=chart_version)  # when given, the chart must have it
    image_paths: List[str] = key("imagePaths", factory=list, check=image_path)
    values: Dict[str, object] = key("values", factory=dict, versions=V2_ONLY)
    values_files: List[str] = key("valuesFiles", factory=list, versions=V2_ONLY, check=non_empty)
    platforms: List[PlatformSpec] = key("platforms", factory=list, versions=V2_ONLY)
    where: Where = where()


@dataclass(frozen=True)
class Helm:
    repositories: List[HelmRepository] = key("repositories", factory=list)
    local: List[HelmLocalChart] = key("local", factory=list)
    where: Where = where()

    def __bool__(self) -> bool:
        """`helm: {}` asks for nothing, as oc-mirror reads it."""
        return bool(self.repositories or self.local)


@dataclass(frozen=True)
class Mirror:
    platform: Optional[Platform] = key("platform")
    operators: List[Operator] = key("operators", factory=list)
    additional_images: List[AdditionalImage] = key("additionalImages", factory=list)
    helm: Optional[Helm] = key("helm")
    blocked_images: List[BlockedImage] = key("blockedImages", factory=list)
    samples: List[SampleImage] = key("samples", factory=list)
    where: Where = where()


@dataclass(frozen=True)
class RegistryStorage:
    image_url: str = key("imageURL", required=True)
    skip_tls: bool = key("skipTLS", default=False)


@dataclass(frozen=True)
class LocalStorage:
    path: Optional[str] = key("path")  # oc-mirror v1 reads a null path as unset


@dataclass(frozen=True)
class StorageConfig:
    """oc-mirror v1's metadata store; skomirror keeps its state in the workspace instead."""

    registry: Optional[RegistryStorage] = key("registry")
    local: Optional[LocalStorage] = key("local")
    where: Where = where()


@dataclass(frozen=True)
class ImageSetConfiguration:
    kind: str = key("kind", required=True)
    api_version: str = key("apiVersion", required=True)
    mirror: Mirror = key("mirror", required=True)
    archive_size: Optional[int] = key("archiveSize", check=non_negative)
    storage_config: Optional[StorageConfig] = key("storageConfig", versions=V1_ONLY)
    where: Where = where()
    warnings: Tuple[str, ...] = field(default=(), compare=False)  # one line each, for the run to print


@dataclass(frozen=True)
class DeleteImageSetConfiguration:
    """What `skomirror delete --generate` resolves: the same sections as a mirror, under `delete`."""

    kind: str = key("kind", required=True)
    api_version: str = key("apiVersion", required=True)
    delete: Mirror = key("delete", required=True)
    where: Where = where()
