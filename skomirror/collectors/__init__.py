"""Collectors turn ISC sections into images to mirror, one module per section.

A section without a collector is refused with its location, never skipped:
a user must not believe something was mirrored when it was not. The release, operator and helm
collectors are imported only for an ISC that has their section (`sections`): a run of additional
images does not pay for their modules.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, FrozenSet, List, Optional

from skomirror.collectors import additional
from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import ImageSetConfiguration, Where
from skomirror.errors import ConfigError

if TYPE_CHECKING:
    from skomirror.collectors.helm import HelmContext
    from skomirror.collectors.operators import CatalogReport, OperatorContext
    from skomirror.collectors.releases import ReleaseContext, ReleaseReport

__all__ = ["Collected", "CollectedImage", "ImageKind", "RELEASES", "OPERATORS", "HELM", "collect", "sections"]

_NOT_YET = "skomirror cannot mirror this section yet; remove it (or mirror it with oc-mirror meanwhile)"
RELEASES, OPERATORS, HELM = "releases", "operators", "helm"


@dataclass
class Collected:
    images: List[CollectedImage] = field(default_factory=list)
    catalogs: List["CatalogReport"] = field(default_factory=list)  # what each catalog selected
    releases: List["ReleaseReport"] = field(default_factory=list)  # which releases, per architecture


def sections(config: ImageSetConfiguration) -> FrozenSet[str]:
    """Which of the sections that need a context (RELEASES, OPERATORS, HELM) the ISC has."""
    platform = config.mirror.platform
    found = set()
    if platform and (platform.channels or platform.release or platform.graph):
        found.add(RELEASES)
    if config.mirror.operators:
        found.add(OPERATORS)
    if config.mirror.helm:
        found.add(HELM)
    return frozenset(found)


def _refuse_unsupported(config: ImageSetConfiguration) -> None:
    mirror = config.mirror
    sections = [
        ("samples", mirror.samples, "samples (oc-mirror does not implement them either)"),
    ]
    for key, value, what in sections:
        if value:
            where: Where = value[0].where if isinstance(value, list) else value.where
            raise ConfigError(f"{where.file}:{where.line}: mirror.{key}: {what}: {_NOT_YET}")


def collect(config: ImageSetConfiguration, operator_context: Optional["OperatorContext"] = None,
            release_context: Optional["ReleaseContext"] = None,
            helm_context: Optional["HelmContext"] = None) -> Collected:
    """Every image the ISC selects: releases, operators, additional images, helm charts and their images."""
    _refuse_unsupported(config)
    collected = Collected()
    present = sections(config)
    if RELEASES in present:
        if release_context is None:
            raise ConfigError(f"{config.where.file}: mirror.platform: releases cannot be read in this mode")
        from skomirror.collectors import releases
        images, collected.releases = releases.collect(config.mirror.platform, release_context)
        collected.images += images
    if OPERATORS in present:
        if operator_context is None:
            raise ConfigError(f"{config.where.file}: mirror.operators: catalogs cannot be read in this mode")
        from skomirror.collectors import operators
        images, collected.catalogs = operators.collect(config.mirror.operators, operator_context)
        collected.images += images
    collected.images += additional.collect(config.mirror.additional_images)
    if HELM in present:
        if helm_context is None:
            raise ConfigError(f"{config.mirror.helm.where}: helm charts cannot be read in this mode")
        from skomirror.collectors import helm
        collected.images += helm.collect(config.mirror.helm, helm_context)
    return collected
