"""Read an ImageSetConfiguration file strictly, with the line of every problem.

PyYAML's node tree keeps line numbers, so the file is composed (not loaded)
and walked against the dataclass declarations in `model`. The first problem
ends the load with one line: `isc.yaml:12: mirror.additionalImages[2].name: ...`.

Then the rules across entries (skomirror.config.rules), so that nothing asked
for is dropped without a word (a key skomirror cannot honour is refused). What oc-mirror reads with a
shrug is read with a warning: keys in another letter case (Go's JSON decoder
ignores case), v1 keys skomirror has no use for. Warnings, one line each, are
kept on the configuration and passed to `warn`.
"""

import dataclasses
import datetime
import difflib
import functools
import typing
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from skomirror.config.model import (API_VERSIONS, DELETE_KIND, KIND, DeleteImageSetConfiguration,
                                    ImageSetConfiguration, Where)
from skomirror.config.rules import catalog_source_template_problem, check_entries, honour_target_names
from skomirror.config.yaml_reading import (ValueProblem, collection_tag_warning, compose_documents, read_text,
                                           scalar_value, yaml_problem)
from skomirror.errors import ConfigError, cut, shown

__all__ = ["catalog_source_template_problem", "load_config", "yaml_problem"]

_NULL_TAG = "tag:yaml.org,2002:null"
_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}
_NODE_NAMES = {MappingNode: "a mapping", SequenceNode: "a list", ScalarNode: "a value"}


def load_config(path: Path, warn: Optional[Callable[[str], None]] = None,
                kind: str = KIND) -> ImageSetConfiguration:
    """With kind DELETE_KIND, a DeleteImageSetConfiguration, its `delete` read as the `mirror` of the result."""
    name = str(path)
    root = _the_document(name, read_text(path, kind))
    builder = _Builder(name, _check_header(name, root, kind))
    if kind == DELETE_KIND:
        config = _as_image_set(builder.build(DeleteImageSetConfiguration, root, ""))
    else:
        config = builder.build(ImageSetConfiguration, root, "")
    config = honour_target_names(config, builder.warnings)
    check_entries(config, builder.warnings)
    config = dataclasses.replace(config, warnings=tuple(builder.warnings))
    for message in config.warnings if warn else ():
        warn(message)
    return config


def _the_document(name: str, text: str) -> MappingNode:
    """The one YAML document with content. oc-mirror reads the first and drops the others unread: refused here."""
    documents = [node for node in compose_documents(name, text) if not _is_null(node)]
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


def _as_image_set(delete: DeleteImageSetConfiguration) -> ImageSetConfiguration:
    """The collectors read `mirror`: a delete configuration is handed to them as one (its paths say `delete`)."""
    if delete.delete.blocked_images:
        raise ConfigError(f"{delete.delete.where.at('blockedImages')}: not read in a {DELETE_KIND} (as in "
                          f"oc-mirror): leave out what must not be deleted instead")
    return ImageSetConfiguration(delete.kind, delete.api_version, delete.delete, where=delete.where)


def _check_header(name: str, root: MappingNode, expected: str = KIND) -> str:
    """kind and apiVersion first: they decide which keys the rest may use."""
    top = _top_level_scalars(root)
    if "kind" not in top:
        raise ConfigError(f"{name}:{root.start_mark.line + 1}: kind: missing; expected kind: {expected}")
    kind_node = top["kind"][1]
    if not isinstance(kind_node, ScalarNode) or kind_node.value != expected:
        written = shown(kind_node.value) if isinstance(kind_node, ScalarNode) else "a non-string"
        hint = {DELETE_KIND: " (it is read by skomirror delete --generate)",
                KIND: " (skomirror delete --generate reads a DeleteImageSetConfiguration)"}.get(
            kind_node.value if isinstance(kind_node, ScalarNode) else "", "")
        raise ConfigError(f"{name}:{kind_node.start_mark.line + 1}: kind: unsupported kind {written}{hint}; "
                          f"expected {expected}")
    if "apiversion" not in top:
        raise ConfigError(f"{name}:{root.start_mark.line + 1}: apiVersion: missing; expected one of "
                          f"{', '.join(API_VERSIONS)}")
    version_node = top["apiversion"][1]
    version = version_node.value if isinstance(version_node, ScalarNode) else None
    if version not in API_VERSIONS:
        raise ConfigError(f"{name}:{version_node.start_mark.line + 1}: apiVersion: unsupported apiVersion "
                          f"{shown(version)}; expected one of {', '.join(API_VERSIONS)}")
    return version


class _Builder:
    def __init__(self, file: str, api_version: str):
        self.file = file
        self.api_version = api_version
        self.warnings: List[str] = []

    def fail(self, node: Node, path: str, message: str) -> typing.NoReturn:
        raise ConfigError(f"{self.file}:{node.start_mark.line + 1}: {path or '(top level)'}: {message}")

    def warn(self, node: Node, path: str, message: str) -> None:
        self.warnings.append(f"{self.file}:{node.start_mark.line + 1}: {path or '(top level)'}: {message}")

    def build(self, cls, node: Node, path: str):
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"expected a mapping, got {_describe(node)}")
        tag_warning = collection_tag_warning(node)
        if tag_warning:
            self.warn(node, path, tag_warning)
        declared, folded, hints = _schema(cls)
        values: Dict[str, object] = {}
        seen_on: Dict[str, Tuple[int, str]] = {}  # the declared key -> (its line, its spelling)
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or not isinstance(key_node.value, str):
                self.fail(key_node, path, "keys must be plain strings")
            written, line = key_node.value, key_node.start_mark.line + 1
            key = written if written in declared else folded.get(written.lower())
            if key is None:
                self.fail(key_node, _join(path, cut(written, 40)), _unknown_key_message(written, declared))
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
            tag_warning = collection_tag_warning(node)
            if tag_warning:
                self.warn(node, path, tag_warning)
            (item_hint,) = typing.get_args(hint)
            item_metadata = {**metadata, "required": True}  # an entry of a list is never left out as null
            return [self.value(item_hint, item, f"{path}[{index}]", item_metadata)
                    for index, item in enumerate(node.value)]
        if dataclasses.is_dataclass(hint):
            return self.build(hint, node, path)
        if origin is dict:
            return self.free_mapping(node, path)
        return self.scalar(hint, node, path, metadata.get("check"))

    def free_mapping(self, node: Node, path: str) -> dict:
        """A mapping the schema does not describe (a helm chart's `values`), read as plain YAML."""
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"expected a mapping, got {_describe(node)}")
        return self._plain(node, path)

    def _plain(self, node: Node, path: str) -> object:
        """YAML as data, scalars read as the schema's are (tags, bounds: see yaml_reading)."""
        if isinstance(node, MappingNode):
            result = {}
            for key_node, value_node in node.value:
                key = self._plain(key_node, path)
                if isinstance(key, (dict, list)):
                    self.fail(key_node, path, "keys must be plain values")
                result[key] = self._plain(value_node, _join(path, str(key)))
            return result
        if isinstance(node, SequenceNode):
            return [self._plain(item, f"{path}[{index}]") for index, item in enumerate(node.value)]
        try:
            return scalar_value(node, lambda message: self.warn(node, path, message))
        except ValueProblem as problem:
            self.fail(node, path, str(problem))

    def scalar(self, expected: type, node: Node, path: str, check) -> object:
        if not isinstance(node, ScalarNode):
            self.fail(node, path, f"expected {_TYPE_NAMES[expected]}, got {_describe(node)}")
        try:
            value = scalar_value(node, lambda message: self.warn(node, path, message))
        except ValueProblem as problem:
            self.fail(node, path, str(problem))
        if expected is str and isinstance(value, bytes):  # !!binary: its bytes, as oc-mirror's decoder reads it
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                self.fail(node, path, "expected a string, got !!binary bytes that are not UTF-8 text")
        type_ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if not type_ok:
            hint = ""
            if expected is str and isinstance(value, (int, float, datetime.date)) and not node.style:
                hint = f"; quote it: '{cut(node.value)}'"
            self.fail(node, path, f"expected {_TYPE_NAMES[expected]}, got {_describe(node, value)}{hint}")
        problem: Optional[str] = check(value) if check else None
        if problem:
            self.fail(node, path, problem)
        return value


@functools.lru_cache(maxsize=None)
def _schema(cls) -> Tuple[dict, Dict[str, str], dict]:
    """A dataclass's YAML keys, the same in lower case, and its type hints: read once, not once per mapping."""
    declared = {f.metadata["yaml"]: f for f in dataclasses.fields(cls) if "yaml" in f.metadata}
    return declared, {yaml_key.lower(): yaml_key for yaml_key in declared}, typing.get_type_hints(cls)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _describe(node: Node, value: object = None) -> str:
    if isinstance(node, ScalarNode):
        if isinstance(value, bool):
            return f"the boolean {cut(node.value)}"
        if isinstance(value, (int, float)):
            return f"the number {cut(node.value)}"
        if _is_null(node):
            return "nothing (null)"
        return shown(node.value)
    return _NODE_NAMES.get(type(node), "a value")


def _unknown_key_message(key: str, declared: dict) -> str:
    close = difflib.get_close_matches(key, list(declared), n=1) if len(key) <= 100 else []
    suggestion = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(declared)}"
    return f"unknown key {shown(key, 40)}{suggestion}"
