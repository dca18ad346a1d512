"""The rules across entries, once the file has its shape: v1's targetName, and what oc-mirror refuses.

oc-mirror's (config/validate.go: a catalog, package, channel or release
channel listed twice; package and channel version ranges mixed) and
skomirror's, so that nothing asked for is dropped without a word. Warnings are
appended to the list given, one line each.
"""

import dataclasses
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import yaml

from skomirror.config.model import Helm, ImageSetConfiguration, Operator
from skomirror.config.yaml_reading import read_text, safe_load, yaml_problem
from skomirror.errors import ConfigError, InvalidReference, cut, shown
from skomirror.imageref import ImageRef, OciLayoutRef, is_oci_layout
from skomirror.naming import oci_catalog_name


def honour_target_names(config: ImageSetConfiguration, warnings: List[str]) -> ImageSetConfiguration:
    operators = [_with_target_name(operator, warnings) for operator in config.mirror.operators]
    return dataclasses.replace(config, mirror=dataclasses.replace(config.mirror, operators=operators))


def _with_target_name(operator: Operator, warnings: List[str]) -> Operator:
    """v1alpha2's targetName renames the catalog's last path component and keeps its namespace (oc-mirror v1's
    GetUniqueName); targetCatalog, which replaced it in 4.13, wins when both are set."""
    if not operator.target_name:
        return operator
    if operator.target_catalog:
        warnings.append(f"{operator.where.at('targetName')}: ignored: targetCatalog is set and wins, as in oc-mirror")
        return operator
    if is_oci_layout(operator.catalog):  # a layout has no namespace: the name is all
        return dataclasses.replace(operator, target_catalog=operator.target_name)
    try:
        namespace = ImageRef.parse(operator.catalog).destination_path.rpartition("/")[0]
    except InvalidReference:
        return operator
    target = f"{namespace}/{operator.target_name}" if namespace else operator.target_name
    return dataclasses.replace(operator, target_catalog=target)


def _repeats(entries: Iterable, key: Callable) -> Iterator[Tuple[object, object]]:
    """(entry, the earlier entry with the same key) for every repeat, in file order."""
    seen: Dict[object, object] = {}
    for entry in entries:
        earlier = seen.setdefault(key(entry), entry)
        if earlier is not entry:
            yield entry, earlier


def _first_repeat(entries: Iterable, key: Callable):
    return next(_repeats(entries, key), (None, None))


def _catalog_destination(operator: Operator) -> str:
    """Where the catalog lands under DEST: what oc-mirror's duplicate check compares (its unique name)."""
    try:
        if is_oci_layout(operator.catalog):
            return str(oci_catalog_name(OciLayoutRef.parse(operator.catalog), operator.target_catalog,
                                        operator.target_tag))
        source = ImageRef.parse(operator.catalog)
    except InvalidReference:
        return operator.catalog
    path = operator.target_catalog or source.destination_path
    tag = operator.target_tag or source.tag
    return f"{path}:{tag}" if tag else f"{path}@{source.digest}"


def check_entries(config: ImageSetConfiguration, warnings: List[str]) -> None:
    mirror = config.mirror
    channel, first = _first_repeat(mirror.platform.channels if mirror.platform else [], lambda c: c.name)
    if channel:
        raise ConfigError(f"{channel.where}: release channel {shown(channel.name)} is already listed on line "
                          f"{first.where.line}; list it once, with one version range")
    landed: Dict[str, Operator] = {}
    for operator in mirror.operators:
        first = landed.setdefault(_catalog_destination(operator), operator)
        if first is not operator:
            what = (f"is already listed on line {first.where.line}" if operator.catalog == first.catalog
                    else f"lands where the catalog on line {first.where.line} lands")
            landing = cut(_catalog_destination(operator), 100)
            raise ConfigError(f"{operator.where}: catalog {shown(operator.catalog, 100)} {what} (<DEST>/{landing}), "
                              f"and the cluster would see only one of them: merge their packages into one entry, or "
                              f"give one a targetCatalog or targetTag")
        _check_operator(operator, warnings)
    for image, first in _repeats(mirror.additional_images, lambda i: (i.name, i.target_repo, i.target_tag)):
        warnings.append(f"{image.where}: {shown(image.name)} is already listed on line {first.where.line}; "
                        f"it is mirrored once")
    if mirror.helm:
        _check_helm(mirror.helm)
    if config.storage_config is not None:
        warnings.append(f"{config.where.at('storageConfig')}: not used: skomirror keeps what it mirrored in its "
                        f"workspace (--workspace), not in oc-mirror v1's metadata store")


def _check_helm(helm: Helm) -> None:
    """What a chart entry asks for that cannot be had: a repository chart read from a path, an OCI chart without
    the version that is its tag, an OCI repository (which cannot be listed) without charts."""
    for repository in helm.repositories:
        oci = repository.url.startswith("oci://")
        if oci and not repository.charts:
            raise ConfigError(f"{repository.where.at('url')}: an oci:// chart repository cannot be listed: name its "
                              f"charts, each with its version")
        for chart in repository.charts:
            if chart.path:
                raise ConfigError(f"{chart.where.at('path')}: a chart of a repository is downloaded from it, not read "
                                  f"from a path (oc-mirror ignores this path): move the chart to helm.local, or drop "
                                  f"the path")
            if oci and not chart.version:
                raise ConfigError(f"{chart.where}: chart {chart.name!r} of an oci:// repository needs its version "
                                  f"(the tag it was pushed under)")


def _check_operator(operator: Operator, warnings: List[str]) -> None:
    package, first = _first_repeat(operator.packages, lambda p: p.name)
    if package:
        raise ConfigError(f"{package.where}: package {shown(package.name)} is already listed on line "
                          f"{first.where.line} for catalog {cut(operator.catalog)}; list it once, with every channel "
                          f"it needs")
    for package in operator.packages:
        channel, first = _first_repeat(package.channels, lambda c: c.name)
        if channel:
            raise ConfigError(f"{channel.where}: channel {shown(channel.name)} of package {shown(package.name)} is "
                              f"already listed on line {first.where.line}; list it once, with one version range")
        for entry in [package] + list(package.channels):
            if entry.min_bundle:
                raise ConfigError(f"{entry.where.at('minBundle')}: not supported by skomirror (oc-mirror v2 "
                                  f"dropped it too); write the bundle's version as minVersion")
        ranged = [channel for channel in package.channels if channel.min_version or channel.max_version]
        if ranged and (package.min_version or package.max_version):
            raise ConfigError(f"{ranged[0].where}: channel {shown(ranged[0].name)} has a minVersion/maxVersion and "
                              f"so has its package {shown(package.name)} (line {package.where.line}); oc-mirror "
                              f"refuses the mix: put the range on the package or on its channels")
    if operator.original_ref:
        warnings.append(f"{operator.where.at('originalRef')}: ignored, as oc-mirror has ignored it since 4.13")
    if operator.target_catalog_source_template:
        _check_template(operator)


def catalog_source_template_problem(document: object) -> Optional[str]:
    """Why a targetCatalogSourceTemplate cannot be used (oc-mirror's rules), or None."""
    if not isinstance(document, dict) or document.get("kind") != "CatalogSource" or \
            document.get("apiVersion") != "operators.coreos.com/v1alpha1":
        return "not an operators.coreos.com/v1alpha1 CatalogSource"
    spec = document.get("spec") or {}
    if not isinstance(spec, dict) or spec.get("sourceType") not in (None, "", "grpc") or spec.get("configMap"):
        return "only a grpc CatalogSource without configMap can be a template"
    return None


def _check_template(operator: Operator) -> None:
    """A template that is there must be usable; a missing one is warned about where cluster resources are written
    (perhaps another machine), and a plain CatalogSource written instead, as oc-mirror does."""
    path = Path(operator.target_catalog_source_template)
    try:
        if not path.is_file():
            return
    except OSError as exc:  # a name too long, say: the template cannot be there
        raise ConfigError(f"{operator.where.at('targetCatalogSourceTemplate')}: {cut(str(path), 100)}: "
                          f"{exc.strerror or exc}") from None
    try:
        problem = catalog_source_template_problem(safe_load(str(path), read_text(path, "template")))
    except ConfigError as exc:
        problem = str(exc)[len(str(path)):].lstrip(": ")  # its line, without the path again
    except yaml.YAMLError as exc:
        problem = yaml_problem(exc, str(path))[len(str(path)):].lstrip(": ")
    if problem:
        raise ConfigError(f"{operator.where.at('targetCatalogSourceTemplate')}: {cut(str(path), 100)}: {problem}")
