"""Kubernetes JSONPath, the language of oc-mirror's `imagePaths`: `{.spec.template.spec.containers[*].image}`.

oc-mirror evaluates them with client-go's jsonpath (missing keys allowed) on
every rendered manifest. This is the part of that language image paths use:
`{...}` blocks, `.field`, `['field']`, `..field` (recursive), `*`, `[n]`,
`[start:end]`, unions `[a,b]` and filters `[?(@.name == "x")]`. Anything else
(`range`, text between blocks) is refused when the ISC is read, never guessed.
"""

import re
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Tuple

_NAME = re.compile(r"[A-Za-z0-9_/\-]+|\*")
_FILTER = re.compile(r"\?\(\s*@((?:\.[A-Za-z0-9_/\-]+)+)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)\Z")
_INDEX = re.compile(r"-?\d+\Z")
_SLICE = re.compile(r"(-?\d*):(-?\d*)\Z")
_QUOTED = re.compile(r"""(['"])(.*)\1\Z""")

Step = Callable[[object], Iterator[object]]
MISSING = object()


class JsonPathError(ValueError):
    pass


def _children(node: object) -> Iterator[object]:
    if isinstance(node, dict):
        yield from node.values()
    elif isinstance(node, list):
        yield from node


def _field(name: str) -> Step:
    if name == "*":
        return _children

    def step(node):
        if isinstance(node, dict) and name in node:
            yield node[name]
    return step


def _recursive(name: str) -> Step:
    inner = _field(name)

    def step(node):
        yield from inner(node)
        for child in _children(node):
            yield from step(child)
    return step


def _literal(text: str) -> object:
    quoted = _QUOTED.match(text)
    if quoted:
        return quoted.group(2)
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        raise JsonPathError(f"filter value {text!r} is neither a quoted string nor a number") from None


def _lookup(node: object, fields: List[str]) -> object:
    for name in fields:
        if not isinstance(node, dict) or name not in node:
            return MISSING
        node = node[name]
    return node


def _compare(left: object, operator: str, right: object) -> bool:
    if operator in ("==", "!="):
        return (left == right) == (operator == "==")
    if isinstance(left, str) != isinstance(right, str) or isinstance(left, bool):
        return False
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]
    except TypeError:
        return False


def _filter(text: str) -> Step:
    match = _FILTER.match(text)
    if not match:
        raise JsonPathError(f"unsupported filter [{text}]; write [?(@.field == 'value')]")
    fields, operator, value = match.group(1).split(".")[1:], match.group(2), match.group(3)
    expected = _literal(value) if operator else None

    def step(node):
        for child in node if isinstance(node, list) else []:
            found = _lookup(child, fields)
            if found is not MISSING and (operator is None or _compare(found, operator, expected)):
                yield child
    return step


def _positions(text: str, length: int) -> List[int]:
    sliced = _SLICE.match(text)
    if sliced:
        start, end = (int(part) if part else None for part in sliced.groups())
        return list(range(length))[start:end]
    index = int(text)
    index = index + length if index < 0 else index
    return [index] if 0 <= index < length else []


def _subscript(text: str) -> Step:
    text = text.strip()
    if text == "*":
        return _children
    if text.startswith("?"):
        return _filter(text)
    parts = [part.strip() for part in text.split(",")]
    names, indexes = [], []
    for part in parts:
        quoted = _QUOTED.match(part)
        if quoted:
            names.append(quoted.group(2))
        elif _INDEX.match(part) or _SLICE.match(part):
            indexes.append(part)
        else:
            raise JsonPathError(f"unsupported subscript [{text}]")

    def step(node):
        if isinstance(node, dict):
            yield from (node[name] for name in names if name in node)
        elif isinstance(node, list):
            for part in indexes:
                yield from (node[position] for position in _positions(part, len(node)))
    return step


def _closing_bracket(text: str, start: int) -> int:
    quote = None
    for position in range(start, len(text)):
        character = text[position]
        if quote:
            quote = None if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character == "]":
            return position
    raise JsonPathError(f"unclosed '[' in {text!r}")


def _steps(expression: str) -> List[Step]:
    text = expression.strip()
    if text.startswith("$"):
        text = text[1:]
    if text and text[0] not in ".[":
        raise JsonPathError(f"{expression!r} must start with '.', e.g. .spec.containers[*].image")
    steps: List[Step] = []
    position = 0
    while position < len(text):
        if text.startswith("..", position):
            match = _NAME.match(text, position + 2)
            if not match:
                raise JsonPathError(f"'..' must be followed by a field name in {expression!r}")
            steps.append(_recursive(match.group()))
            position = match.end()
        elif text[position] == ".":
            match = _NAME.match(text, position + 1)
            if not match:
                raise JsonPathError(f"expected a field name after '.' at {text[position:]!r}")
            steps.append(_field(match.group()))
            position = match.end()
        elif text[position] == "[":
            end = _closing_bracket(text, position + 1)
            steps.append(_subscript(text[position + 1:end]))
            position = end + 1
        else:
            raise JsonPathError(f"unexpected {text[position:]!r} in {expression!r}")
    return steps


@dataclass(frozen=True)
class JsonPath:
    text: str
    expressions: Tuple[Tuple[Step, ...], ...]

    def find(self, document: object) -> List[object]:
        """Every value the path reaches in `document`; none where a key is missing (client-go's AllowMissingKeys)."""
        found: List[object] = []
        for steps in self.expressions:
            nodes = [document]
            for step in steps:
                nodes = [result for node in nodes for result in step(node)]
            found += nodes
        return found


def parse(template: str) -> JsonPath:
    """`{.a.b[*].c}` (one or more blocks, whitespace between them); JsonPathError says what is not supported."""
    blocks = re.findall(r"\{([^{}]*)\}", template)
    outside = re.sub(r"\{[^{}]*\}", "", template)
    if not blocks or outside.strip():
        raise JsonPathError(f"{template!r} is not a JSONPath template; write one like "
                            "{.spec.template.spec.containers[*].image}")
    for block in blocks:
        if re.match(r"\s*(range|end)\b", block):
            raise JsonPathError(f"{{{block}}}: range/end is not supported in imagePaths; write the path to the "
                                "image field itself")
    return JsonPath(template, tuple(tuple(_steps(block)) for block in blocks))


def problem(template: str) -> Optional[str]:
    """The ISC check of one imagePaths entry: why it cannot be used, or None."""
    try:
        parse(template)
    except JsonPathError as exc:
        return str(exc)
    return None
