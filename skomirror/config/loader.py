"""Read an ImageSetConfiguration file strictly, with the line of every problem.

PyYAML's node tree keeps line numbers, so the file is composed (not loaded)
and walked against the dataclass declarations in `model`. The first problem
ends the load with one line: `isc.yaml:12: mirror.additionalImages[2].name: ...`.
"""

import dataclasses
import difflib
import typing
from pathlib import Path
from typing import Dict, Optional, Tuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from skomirror.config.model import API_VERSIONS, KIND, ImageSetConfiguration, Where
from skomirror.errors import ConfigError

_NULL_TAG = "tag:yaml.org,2002:null"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes and marks, much faster
_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}
_NODE_NAMES = {MappingNode: "a mapping", SequenceNode: "a list", ScalarNode: "a value"}


def load_config(path: Path) -> ImageSetConfiguration:
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read the ImageSetConfiguration: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = exc.problem or exc.context or "unparsable"
        raise ConfigError(f"{where}: malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: malformed YAML: {exc}") from None
    if root is None:
        raise ConfigError(f"{name}: the file is empty; expected an ImageSetConfiguration")
    if not isinstance(root, MappingNode):
        raise ConfigError(f"{name}:{root.start_mark.line + 1}: expected a mapping with kind, apiVersion and mirror")

    api_version = _check_header(name, root)
    return _Builder(name, api_version).build(ImageSetConfiguration, root, "")


def _top_level_scalars(root: MappingNode) -> Dict[str, Tuple[Node, Node]]:
    found = {}
    for key_node, value_node in root.value:
        if isinstance(key_node, ScalarNode):
            found[key_node.value] = (key_node, value_node)
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
    if "apiVersion" not in top:
        raise ConfigError(f"{name}:{root.start_mark.line + 1}: apiVersion: missing; expected one of "
                          f"{', '.join(API_VERSIONS)}")
    version_node = top["apiVersion"][1]
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

    def fail(self, node: Node, path: str, message: str) -> typing.NoReturn:
        raise ConfigError(f"{self.file}:{node.start_mark.line + 1}: {path or '(top level)'}: {message}")

    def build(self, cls, node: Node, path: str):
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"expected a mapping, got {_describe(node)}")
        declared = {f.metadata["yaml"]: f for f in dataclasses.fields(cls) if "yaml" in f.metadata}
        hints = typing.get_type_hints(cls)
        values, seen_on = {}, {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or not isinstance(key_node.value, str):
                self.fail(key_node, path, "keys must be plain strings")
            key = key_node.value
            key_path = f"{path}.{key}" if path else key
            if key in seen_on:
                self.fail(key_node, key_path, f"duplicate key (first set on line {seen_on[key]})")
            seen_on[key] = key_node.start_mark.line + 1
            spec = declared.get(key)
            if spec is None:
                self.fail(key_node, key_path, _unknown_key_message(key, declared))
            if self.api_version not in spec.metadata["versions"]:
                self.fail(key_node, key_path, f"not part of {self.api_version}; it needs apiVersion: "
                                              f"{', '.join(spec.metadata['versions'])}")
            values[spec.name] = self.value(hints[spec.name], value_node, key_path, spec.metadata)
        for yaml_key, spec in declared.items():
            if spec.metadata["required"] and spec.name not in values:
                self.fail(node, f"{path}.{yaml_key}" if path else yaml_key, "required key is missing")
        if "where" in hints:
            values["where"] = Where(self.file, node.start_mark.line + 1, path)
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
        return self.scalar(hint, node, path, metadata.get("check"))

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
