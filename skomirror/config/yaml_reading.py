"""YAML read defensively: bounded before it is built, every tag taken, every problem one short line.

An ISC is a few kilobytes, but a file of 6 KB whose aliases repeat each other (`packages: *p` in every
operator, `channels: *c` in every package) expanded to 660,000 values, and walking them took 10 s. So the
parser's events are counted first, without building anything: nesting depth, and the values the document
would have once every alias is expanded (an alias counts all that its anchor holds). Past the limits the file
is refused at the line where it crossed them, in a few milliseconds; only then is the node tree composed.

Tags: the standard scalar tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp`, `!!binary`)
are constructed, and a value that does not fit its tag is refused; any other tag is read as oc-mirror's YAML
decoder reads it, as the plain string written, with a warning.
"""

from typing import Callable, List, Optional

import yaml
from yaml.events import (AliasEvent, CollectionStartEvent, DocumentStartEvent, MappingEndEvent, ScalarEvent,
                         SequenceEndEvent)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from skomirror.errors import ConfigError, shown

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes and marks, much faster
MAX_FILE_BYTES = 8 * 1024 ** 2
MAX_DEPTH = 64  # an ISC nests 8 deep; PyYAML's pure-Python composer recurses once per level
MAX_VALUES = 100_000  # scalars, lists and mappings, aliases expanded: 14,000 images with targetRepo and targetTag
MAX_CHARACTERS = 16 * 1024 ** 2  # of scalars, aliases expanded
MAX_INTEGER_DIGITS = 30  # oc-mirror's integers are 64 bits (19 digits); longer text is not worth converting

_STANDARD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STANDARD + name for name in ("str", "int", "float", "bool", "null", "timestamp", "binary")}
_COLLECTION_TAGS = {_STANDARD + "map", _STANDARD + "seq"}
_INT_TAG = _STANDARD + "int"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


def read_text(path, what: str) -> str:
    name = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{name}: the {what} is larger than {MAX_FILE_BYTES // 1024 ** 2} MB; it is YAML of a "
                          f"few kilobytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{name}:{line}: the {what} is not UTF-8 text (byte {exc.start + 1})") from None


def yaml_problem(exc: yaml.YAMLError, name: str) -> str:
    """One line for a YAML error: `isc.yaml:5:1: malformed YAML: <problem>`."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    problem = " ".join(str(problem).split())
    return f"{where}: malformed YAML: {problem if len(problem) <= 120 else problem[:117] + '...'}"


def check_size(name: str, text: str) -> None:
    """Refuse, from the parser's events alone, a document that nests too deep or expands past the limits."""
    values = characters = 0
    open_anchors: List[Optional[str]] = []
    starts: List[tuple] = []  # (values, characters) when each open collection started
    expanded = {}  # anchor -> (values, characters) it stands for
    try:
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, DocumentStartEvent):
                expanded.clear()  # anchors belong to their document
            elif isinstance(event, CollectionStartEvent):
                if len(starts) == MAX_DEPTH:
                    _refuse(name, event, f"nested more than {MAX_DEPTH} deep; an ImageSetConfiguration nests 8")
                starts.append((values, characters))
                open_anchors.append(event.anchor)
                values += 1
            elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
                started, anchor = starts.pop(), open_anchors.pop()
                if anchor is not None:
                    expanded[anchor] = (values - started[0], characters - started[1])
            elif isinstance(event, ScalarEvent):
                values, characters = values + 1, characters + len(event.value)
                if event.anchor is not None:
                    expanded[event.anchor] = (1, len(event.value))
            elif isinstance(event, AliasEvent):
                if event.anchor in open_anchors:
                    _refuse(name, event, f"the alias *{_anchor(event)} is inside the node it names, which would "
                                         f"contain itself")
                more_values, more_characters = expanded.get(event.anchor, (0, 0))  # unknown: the composer says so
                values, characters = values + more_values, characters + more_characters
            if values > MAX_VALUES or characters > MAX_CHARACTERS:
                limit = f"{MAX_VALUES:,} values" if values > MAX_VALUES else f"{MAX_CHARACTERS // 1024 ** 2} MB of text"
                _refuse(name, event, f"the YAML holds more than {limit} once its aliases are expanded (aliases "
                                     f"repeating aliases?); an ImageSetConfiguration is far smaller")
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(exc, name)) from None


def _anchor(event) -> str:
    return event.anchor if len(event.anchor) <= 40 else event.anchor[:37] + "..."


def _refuse(name: str, event, message: str):
    raise ConfigError(f"{name}:{event.start_mark.line + 1}:{event.start_mark.column + 1}: {message}")


def compose_documents(name: str, text: str) -> List[Node]:
    check_size(name, text)
    try:
        return list(yaml.compose_all(text, Loader=LOADER))
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(exc, name)) from None


def safe_load(name: str, text: str) -> object:
    """yaml.safe_load, within the same limits (for files the ISC names, such as a CatalogSource template)."""
    check_size(name, text)
    return yaml.load(text, Loader=LOADER)


class ValueProblem(ValueError):
    """A scalar that does not fit its tag; the message is the line's end."""


def scalar_value(node: ScalarNode, warn: Callable[[str], None]) -> object:
    """The node's value as YAML means it; a tag skomirror does not know leaves the plain string, with a warning."""
    if node.tag not in _SCALAR_TAGS:
        warn(f"the YAML tag {shown(short_tag(node.tag), 40)} means nothing here and is ignored, as oc-mirror "
             f"ignores it: read as the string {shown(node.value)}")
        return node.value
    if node.tag == _INT_TAG and len(node.value) > MAX_INTEGER_DIGITS:
        raise ValueProblem(f"the number {shown(node.value, 30)} is too large; oc-mirror reads 64-bit integers")
    try:
        value = _CONSTRUCTOR.construct_object(node)
    except Exception:  # noqa: BLE001 PyYAML's constructors fail in many ways: KeyError (!!bool), AttributeError...
        raise ValueProblem(f"{shown(node.value)} is not a valid {short_tag(node.tag)}") from None
    if isinstance(value, int) and not isinstance(value, bool) and not -2 ** 63 <= value < 2 ** 63:
        raise ValueProblem(f"the number {shown(node.value, 30)} is too large; oc-mirror reads 64-bit integers")
    return value


def collection_tag_warning(node: Node) -> Optional[str]:
    """A tag on a list or mapping other than the plain ones: ignored (as oc-mirror does), but said."""
    if isinstance(node, (MappingNode, SequenceNode)) and node.tag not in _COLLECTION_TAGS:
        return f"the YAML tag {shown(short_tag(node.tag), 40)} means nothing here and is ignored, as oc-mirror " \
               f"ignores it"
    return None
