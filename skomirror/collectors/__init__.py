"""Collectors turn ISC sections into images to mirror, one module per section.

A section without a collector is refused with its location, never skipped:
a user must not believe something was mirrored when it was not.
"""

from dataclasses import dataclass, field
from typing import List, Optional

from skomirror.collectors import additional, helm, operators, releases
from skomirror.collectors.helm import HelmContext
from skomirror.collectors.operators import CatalogReport, OperatorContext
from skomirror.collectors.releases import ReleaseContext, ReleaseReport
from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import ImageSetConfiguration, Where
from skomirror.errors import ConfigError

__all__ = ["CatalogReport", "Collected", "CollectedImage", "HelmContext", "ImageKind", "OperatorContext",
           "ReleaseContext", "ReleaseReport", "collect"]

_NOT_YET = "skomirror cannot mirror this section yet; remove it (or mirror it with oc-mirror meanwhile)"


@dataclass
class Collected:
    images: List[CollectedImage] = field(default_factory=list)
    catalogs: List[CatalogReport] = field(default_factory=list)  # what each catalog selected
    releases: List[ReleaseReport] = field(default_factory=list)  # which releases, per architecture


def _refuse_unsupported(config: ImageSetConfiguration) -> None:
    mirror = config.mirror
    sections = [
        ("samples", mirror.samples, "samples (oc-mirror does not implement them either)"),
    ]
    for key, value, what in sections:
        if value:
            where: Where = value[0].where if isinstance(value, list) else value.where
            raise ConfigError(f"{where.file}:{where.line}: mirror.{key}: {what}: {_NOT_YET}")


def collect(config: ImageSetConfiguration, operator_context: Optional[OperatorContext] = None,
            release_context: Optional[ReleaseContext] = None, helm_context: Optional[HelmContext] = None) -> Collected:
    """Every image the ISC selects: releases, operators, additional images, helm charts and their images."""
    _refuse_unsupported(config)
    collected = Collected()
    if config.mirror.platform and (config.mirror.platform.channels or config.mirror.platform.release
                                   or config.mirror.platform.graph):
        if release_context is None:
            raise ConfigError(f"{config.where.file}: mirror.platform: releases cannot be read in this mode")
        images, collected.releases = releases.collect(config.mirror.platform, release_context)
        collected.images += images
    if config.mirror.operators:
        if operator_context is None:
            raise ConfigError(f"{config.where.file}: mirror.operators: catalogs cannot be read in this mode")
        images, collected.catalogs = operators.collect(config.mirror.operators, operator_context)
        collected.images += images
    collected.images += additional.collect(config.mirror.additional_images)
    if config.mirror.helm:
        if helm_context is None:
            raise ConfigError(f"{config.mirror.helm.where}: helm charts cannot be read in this mode")
        collected.images += helm.collect(config.mirror.helm, helm_context)
    return collected
