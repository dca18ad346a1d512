"""Read an ImageSetConfiguration file strictly, with the line of every problem.

PyYAML's node tree keeps line numbers, so the file is composed (not loaded)
and walked against the dataclass declarations in `model`. The first problem
ends the load with one line: `isc.yaml:12: mirror.additionalImages[2].name: ...`.

Then the rules across entries: oc-mirror's (config/validate.go: a catalog,
package, channel or release channel listed twice; package and channel version
ranges mixed) and skomirror's, so that nothing asked for is dropped without a
word (a key skomirror cannot honour is refused). What oc-mirror reads with a
shrug is read with a warning: keys in another letter case (Go's JSON decoder
ignores case), v1 keys skomirror has no use for. Warnings, one line each, are
kept on the configuration and passed to `warn`.
"""

import dataclasses
import difflib
import typing
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from skomirror.config.model import API_VERSIONS, KIND, Helm, ImageSetConfiguration, Operator, Where
from skomirror.errors import ConfigError, InvalidReference
from skomirror.imageref import ImageRef

_NULL_TAG = "tag:yaml.org,2002:null"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes and marks, much faster
_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}
_NODE_NAMES = {MappingNode: "a mapping", SequenceNode: "a list", ScalarNode: "a value"}


def load_config(path: Path, warn: Optional[Callable[[str], None]] = None) -> ImageSetConfiguration:
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read the ImageSetConfiguration: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    root = _the_document(name, text)
    builder = _Builder(name, _check_header(name, root))
    config = builder.build(ImageSetConfiguration, root, "")
    config = _honour_target_names(config, builder.warnings)
    _check_entries(config, builder.warnings)
    config = dataclasses.replace(config, warnings=tuple(builder.warnings))
    for message in config.warnings if warn else ():
        warn(message)
    return config


def yaml_problem(exc: yaml.YAMLError, name: str) -> str:
    """One line for a YAML error: `isc.yaml:5:1: malformed YAML: <problem>`."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc).replace("\n", " ")
    return f"{where}: malformed YAML: {problem}"


def _the_document(name: str, text: str) -> MappingNode:
    """The one YAML document with content. oc-mirror reads the first and drops the others unread: refused here."""
    try:
        documents = [node for node in yaml.compose_all(text, Loader=_LOADER) if not _is_null(node)]
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(exc, name)) from None
    if not documents:
        raise ConfigError(f"{name}: the file is empty; expected an ImageSetConfiguration")
    if len(documents) > 1:
        raise ConfigError(f"{name}:{documents[1].start_mark.line + 1}: a second YAML document starts here; oc-mirror "
                          f"would read only the first and ignore this one: keep one ImageSetConfiguration per file")
    root = documents[0]
    if not isinstance(root, MappingNode):
        raise ConfigError(f"{name}:{root.start_mark.line + 1}: expected a mapping with kind, apiVersion and mirror")
    return root


def _top_level_scalars(root: MappingNode) -> Dict[str, Tuple[Node, Node]]:
    """Keys in lower case, as oc-mirror matches them; the builder warns about another spelling."""
    found: Dict[str, Tuple[Node, Node]] = {}
    for key_node, value_node in root.value:
        if isinstance(key_node, ScalarNode):
            found.setdefault(str(key_node.value).lower(), (key_node, value_node))
    return found


def _check_header(name: str, root: MappingNode) -> str:
    """kind and apiVersion first: they decide which keys the rest may use."""
    top = _top_level_scalars(root)
    if "kind" not in top:
        raise ConfigError(f"{name}:{root.start_mark.line + 1}: kind: missing; expected kind: {KIND}")
    kind_node = top["kind"][1]
    if not isinstance(kind_node, ScalarNode) or kind_node.value != KIND:
        shown = kind_node.value if isinstance(kind_node, ScalarNode) else "a non-string"
        hint = " (deletion is not supported by skomirror)" if shown == "DeleteImageSetConfiguration" else ""
        raise ConfigError(f"{name}:{kind_node.start_mark.line + 1}: kind: unsupported kind {shown!r}{hint}; "
                          f"expected {KIND}")
    if "apiversion" not in top:
        raise ConfigError(f"{name}:{root.start_mark.line + 1}: apiVersion: missing; expected one of "
                          f"{', '.join(API_VERSIONS)}")
    version_node = top["apiversion"][1]
    version = version_node.value if isinstance(version_node, ScalarNode) else None
    if version not in API_VERSIONS:
        raise ConfigError(f"{name}:{version_node.start_mark.line + 1}: apiVersion: unsupported apiVersion "
                          f"{version!r}; expected one of {', '.join(API_VERSIONS)}")
    return version


class _Builder:
    def __init__(self, file: str, api_version: str):
        self.file = file
        self.api_version = api_version
        self.constructor = yaml.constructor.SafeConstructor()
        self.warnings: List[str] = []

    def fail(self, node: Node, path: str, message: str) -> typing.NoReturn:
        raise ConfigError(f"{self.file}:{node.start_mark.line + 1}: {path or '(top level)'}: {message}")

    def build(self, cls, node: Node, path: str):
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"expected a mapping, got {_describe(node)}")
        declared = {f.metadata["yaml"]: f for f in dataclasses.fields(cls) if "yaml" in f.metadata}
        folded = {yaml_key.lower(): yaml_key for yaml_key in declared}
        hints = typing.get_type_hints(cls)
        values: Dict[str, object] = {}
        seen_on: Dict[str, Tuple[int, str]] = {}  # the declared key -> (its line, its spelling)
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or not isinstance(key_node.value, str):
                self.fail(key_node, path, "keys must be plain strings")
            written, line = key_node.value, key_node.start_mark.line + 1
            key = written if written in declared else folded.get(written.lower())
            if key is None:
                self.fail(key_node, _join(path, written), _unknown_key_message(written, declared))
            if key in seen_on:
                first_line, first_spelling = seen_on[key]
                case = "" if first_spelling == written else f" as {first_spelling!r}; oc-mirror ignores the letter case"
                self.fail(key_node, _join(path, written), f"duplicate key (first set on line {first_line}{case})")
            seen_on[key] = (line, written)
            if written != key:
                self.warnings.append(f"{self.file}:{line}: {_join(path, written)}: read as {key!r}, as oc-mirror "
                                     f"reads keys in any letter case; write {key!r}")
            key_path = _join(path, key)
            spec = declared[key]
            if self.api_version not in spec.metadata["versions"]:
                self.fail(key_node, key_path, f"not part of {self.api_version}; it needs apiVersion: "
                                              f"{', '.join(spec.metadata['versions'])}")
            values[spec.name] = self.value(hints[spec.name], value_node, key_path, spec.metadata)
        for yaml_key, spec in declared.items():
            if spec.metadata["required"] and spec.name not in values:
                self.fail(node, f"{path}.{yaml_key}" if path else yaml_key, "required key is missing")
        if "where" in hints:
            lines = tuple((yaml_key, line) for yaml_key, (line, _) in seen_on.items())
            values["where"] = Where(self.file, node.start_mark.line + 1, path, lines)
        return cls(**values)

    def value(self, hint, node: Node, path: str, metadata: dict):
        if _is_null(node) and not metadata.get("required"):
            return [] if typing.get_origin(hint) is list else None
        origin = typing.get_origin(hint)
        if origin is typing.Union:
            inner = next(arg for arg in typing.get_args(hint) if arg is not type(None))
            return self.value(inner, node, path, metadata)
        if origin is list:
            if not isinstance(node, SequenceNode):
                self.fail(node, path, f"expected a list, got {_describe(node)}")
            (item_hint,) = typing.get_args(hint)
            return [self.value(item_hint, item, f"{path}[{index}]", metadata) for index, item in enumerate(node.value)]
        if dataclasses.is_dataclass(hint):
            return self.build(hint, node, path)
        if origin is dict:
            return self.free_mapping(node, path)
        return self.scalar(hint, node, path, metadata.get("check"))

    def free_mapping(self, node: Node, path: str) -> dict:
        """A mapping the schema does not describe (a helm chart's `values`), read as plain YAML."""
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"expected a mapping, got {_describe(node)}")
        return self.constructor.construct_object(node, deep=True)

    def scalar(self, expected: type, node: Node, path: str, check) -> object:
        if not isinstance(node, ScalarNode):
            self.fail(node, path, f"expected {_TYPE_NAMES[expected]}, got {_describe(node)}")
        value = self.constructor.construct_object(node)
        type_ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if not type_ok:
            hint = ""
            if expected is str and isinstance(value, (int, float)):
                hint = f"; quote it: '{node.value}'"
            self.fail(node, path, f"expected {_TYPE_NAMES[expected]}, got {_describe(node, value)}{hint}")
        problem: Optional[str] = check(value) if check else None
        if problem:
            self.fail(node, path, problem)
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _describe(node: Node, value: object = None) -> str:
    if isinstance(node, ScalarNode):
        if isinstance(value, bool):
            return f"the boolean {node.value}"
        if isinstance(value, (int, float)):
            return f"the number {node.value}"
        if _is_null(node):
            return "nothing (null)"
        return f"{node.value!r}"
    return _NODE_NAMES.get(type(node), "a value")


def _unknown_key_message(key: str, declared: dict) -> str:
    close = difflib.get_close_matches(key, list(declared), n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(declared)}"
    return f"unknown key {key!r}{suggestion}"


# --- after the schema: v1's targetName, and the rules across entries ---

def _honour_target_names(config: ImageSetConfiguration, warnings: List[str]) -> ImageSetConfiguration:
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
    if operator.catalog.startswith("oci://"):
        return operator  # oci:// catalogs are refused when collected
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
    if operator.catalog.startswith("oci://"):
        return ":".join(filter(None, (operator.target_catalog or operator.catalog, operator.target_tag)))
    try:
        source = ImageRef.parse(operator.catalog)
    except InvalidReference:
        return operator.catalog
    path = operator.target_catalog or source.destination_path
    tag = operator.target_tag or source.tag
    return f"{path}:{tag}" if tag else f"{path}@{source.digest}"


def _check_entries(config: ImageSetConfiguration, warnings: List[str]) -> None:
    mirror = config.mirror
    channel, first = _first_repeat(mirror.platform.channels if mirror.platform else [], lambda c: c.name)
    if channel:
        raise ConfigError(f"{channel.where}: release channel {channel.name!r} is already listed on line "
                          f"{first.where.line}; list it once, with one version range")
    landed: Dict[str, Operator] = {}
    for operator in mirror.operators:
        first = landed.setdefault(_catalog_destination(operator), operator)
        if first is not operator:
            what = (f"is already listed on line {first.where.line}" if operator.catalog == first.catalog
                    else f"lands where the catalog on line {first.where.line} lands")
            raise ConfigError(f"{operator.where}: catalog {operator.catalog!r} {what} (<DEST>/"
                              f"{_catalog_destination(operator)}), and the cluster would see only one of them: merge "
                              f"their packages into one entry, or give one a targetCatalog or targetTag")
        _check_operator(operator, warnings)
    for image, first in _repeats(mirror.additional_images, lambda i: (i.name, i.target_repo, i.target_tag)):
        warnings.append(f"{image.where}: {image.name!r} is already listed on line {first.where.line}; "
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
        raise ConfigError(f"{package.where}: package {package.name!r} is already listed on line {first.where.line} "
                          f"for catalog {operator.catalog}; list it once, with every channel it needs")
    for package in operator.packages:
        channel, first = _first_repeat(package.channels, lambda c: c.name)
        if channel:
            raise ConfigError(f"{channel.where}: channel {channel.name!r} of package {package.name!r} is already "
                              f"listed on line {first.where.line}; list it once, with one version range")
        for entry in [package] + list(package.channels):
            if entry.min_bundle:
                raise ConfigError(f"{entry.where.at('minBundle')}: not supported by skomirror (oc-mirror v2 "
                                  f"dropped it too); write the bundle's version as minVersion")
        ranged = [channel for channel in package.channels if channel.min_version or channel.max_version]
        if ranged and (package.min_version or package.max_version):
            raise ConfigError(f"{ranged[0].where}: channel {ranged[0].name!r} has a minVersion/maxVersion and so "
                              f"has its package {package.name!r} (line {package.where.line}); oc-mirror refuses the "
                              f"mix: put the range on the package or on its channels")
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
    if not path.is_file():
        return
    try:
        problem = catalog_source_template_problem(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
    except yaml.YAMLError as exc:
        problem = yaml_problem(exc, str(path))[len(str(path)):].lstrip(": ")  # its line, without the path again
    if problem:
        raise ConfigError(f"{operator.where.at('targetCatalogSourceTemplate')}: {path}: {problem}")
