"""Collectors turn ISC sections into images to mirror, one module per section.

A section without a collector is refused with its location, never skipped:
a user must not believe a release or catalog was mirrored when it was not.
"""

from typing import List, Optional, Tuple

from skomirror.collectors import additional, operators
from skomirror.collectors.operators import CatalogReport, OperatorContext
from skomirror.collectors.types import CollectedImage, ImageKind
from skomirror.config.model import ImageSetConfiguration, Where
from skomirror.errors import ConfigError

__all__ = ["CatalogReport", "CollectedImage", "ImageKind", "OperatorContext", "collect"]

_NOT_YET = "skomirror cannot mirror this section yet; remove it (or mirror it with oc-mirror meanwhile)"


def _refuse_unsupported(config: ImageSetConfiguration) -> None:
    mirror = config.mirror
    sections = [
        ("platform", mirror.platform, "release payloads"),
        ("helm", mirror.helm, "helm charts"),
        ("samples", mirror.samples, "samples (oc-mirror does not implement them either)"),
    ]
    for key, value, what in sections:
        if value:
            where: Where = value[0].where if isinstance(value, list) else value.where
            raise ConfigError(f"{where.file}:{where.line}: mirror.{key}: {what}: {_NOT_YET}")


def collect(config: ImageSetConfiguration, operator_context: Optional[OperatorContext] = None) -> \
        Tuple[List[CollectedImage], List[CatalogReport]]:
    """Every image the ISC selects, and what each catalog selected (for --dry-run)."""
    _refuse_unsupported(config)
    images: List[CollectedImage] = []
    reports: List[CatalogReport] = []
    if config.mirror.operators:
        if operator_context is None:
            raise ConfigError(f"{config.where.file}: mirror.operators: catalogs cannot be read in this mode")
        images, reports = operators.collect(config.mirror.operators, operator_context)
    return images + additional.collect(config.mirror.additional_images), reports
