"""What every collector hands to the plan."""

import enum
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from skomirror.config.model import PlatformSpec, Where
from skomirror.errors import EXIT_ADDITIONAL, EXIT_HELM, EXIT_OPERATOR, EXIT_RELEASE
from skomirror.imageref import ImageRef
from skomirror.platforms import platform_text
from skomirror.records import FetchResult


class ImageKind(enum.Enum):
    """oc-mirror's image types; the value is its copy priority (lower copies first)."""

    RELEASE_CONTENT = 1
    KUBEVIRT = 2
    RELEASE = 3
    GRAPH = 4
    OPERATOR_RELATED = 5
    ADDITIONAL = 6
    HELM = 7
    OPERATOR_BUNDLE = 8
    OPERATOR_CATALOG = 9
    HELM_CHART = 10  # a chart itself, copied after the images it names (it requires them)

    @property
    def group(self) -> str:
        """The family reported in summaries and exit codes."""
        if self in (ImageKind.RELEASE_CONTENT, ImageKind.KUBEVIRT, ImageKind.RELEASE, ImageKind.GRAPH):
            return "release"
        if self in (ImageKind.OPERATOR_RELATED, ImageKind.OPERATOR_BUNDLE, ImageKind.OPERATOR_CATALOG):
            return "operator"
        return "helm" if self in (ImageKind.HELM, ImageKind.HELM_CHART) else "additional"

    @property
    def oc_mirror_type(self) -> str:
        """oc-mirror's name for the type, as its delete-images.yaml writes it."""
        return _OC_MIRROR_TYPES[self]

    @classmethod
    def from_oc_mirror_type(cls, name: str) -> "ImageKind":
        """The kind oc-mirror's type name stands for (KeyError when it names none)."""
        return next(kind for kind, text in _OC_MIRROR_TYPES.items() if text == name)

    @property
    def exit_code(self) -> int:
        return {"release": EXIT_RELEASE, "operator": EXIT_OPERATOR, "helm": EXIT_HELM}.get(
            self.group, EXIT_ADDITIONAL)


_OC_MIRROR_TYPES = {
    ImageKind.RELEASE_CONTENT: "ocpReleaseContent", ImageKind.KUBEVIRT: "ocpReleaseContent",
    ImageKind.RELEASE: "ocpRelease", ImageKind.GRAPH: "cincinnatiGraph",
    ImageKind.OPERATOR_RELATED: "operatorRelatedImage", ImageKind.ADDITIONAL: "generic", ImageKind.HELM: "helmImage",
    ImageKind.OPERATOR_BUNDLE: "operatorBundle", ImageKind.OPERATOR_CATALOG: "operatorCatalog",
}


@dataclass(frozen=True)
class CollectedImage:
    """An image to mirror. `target_repo`/`target_tag` override the default destination name."""

    source: ImageRef
    origin: str
    kind: ImageKind
    where: Where
    target_repo: Optional[str] = None
    target_tag: Optional[str] = None
    source_store: Optional[object] = field(default=None, compare=False)  # a Store holding it (built locally)
    requires: Tuple[str, ...] = ()  # pull specs that must be mirrored first (a bundle's related images)
    signs: Optional[str] = None  # a cosign signature (tag sha256-<hex>.sig): the digest it signs
    platforms: Tuple[str, ...] = ()  # copy only these platforms of a multi-arch image (os/arch[/variant]); () all


def wanted_platforms(specs: Sequence[PlatformSpec]) -> Tuple[str, ...]:
    """An ISC's `platforms` list as the plan carries it: os/architecture[/variant], each once."""
    return tuple(dict.fromkeys(platform_text(spec.os, spec.architecture, spec.variant) for spec in specs))


Fetch = Callable[[List[CollectedImage]], Dict[str, FetchResult]]  # pull these (catalogs, payloads): origin -> result
