"""The part of TOML that registries.conf files use, parsed strictly.

Python 3.9 has no tomllib and skomirror adds no dependency for one file
format. Tables, arrays of tables, dotted and quoted keys, strings (all four
kinds), booleans, integers, arrays and inline tables are read as TOML 1.0
defines them; floats and dates (no registries.conf key takes one) and
anything malformed raise `TomlError` with the line, so that the caller can
leave the whole configuration to skopeo rather than guess.
"""

import re
from typing import Any, Dict, List, Set

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_INTEGER = re.compile(r"[+-]?(?:0|[1-9](?:_?[0-9])*)(?![0-9A-Za-z_.:+-])")
_PREFIXED = re.compile(r"0(?:x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*|o[0-7](?:_?[0-7])*|b[01](?:_?[01])*)(?![0-9A-Za-z_.])")
_BOOLEAN = re.compile(r"(?:true|false)(?![A-Za-z0-9_-])")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class TomlError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos = text, 0
        self.explicit: Set[int] = set()  # tables defined by a [header] or as values: not to be defined again
        self.appendable: Set[int] = set()  # arrays made by [[headers]]

    # --- scanning ---

    @property
    def line(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    def fail(self, message: str) -> TomlError:
        return TomlError(self.line, message)

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos:self.pos + count]

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end

    def skip_blank(self) -> None:
        """Spaces, comments and newlines (between statements, inside arrays)."""
        while True:
            self.skip_spaces()
            self.skip_comment()
            if self.peek() == "\n":
                self.pos += 1
            elif self.peek(2) == "\r\n":
                self.pos += 2
            else:
                return

    def end_of_line(self) -> None:
        self.skip_spaces()
        self.skip_comment()
        if self.pos < len(self.text) and self.peek() != "\n" and self.peek(2) != "\r\n":
            raise self.fail(f"unexpected {self.peek()!r} after a value")

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}, found {self.peek() or 'the end of the file'!r}")
        self.pos += 1

    # --- keys ---

    def key(self) -> List[str]:
        parts = []
        while True:
            self.skip_spaces()
            if self.peek() in ('"', "'"):
                if self.peek(3) in ('"""', "'''"):
                    raise self.fail("a multi-line string cannot be a key")
                parts.append(self.string())
            else:
                match = _BARE_KEY.match(self.text, self.pos)
                if not match:
                    raise self.fail(f"expected a key, found {self.peek() or 'the end of the file'!r}")
                parts.append(match.group())
                self.pos = match.end()
            self.skip_spaces()
            if self.peek() != ".":
                return parts
            self.pos += 1

    # --- values ---

    def value(self) -> Any:
        char = self.peek()
        if char in ('"', "'"):
            return self.string()
        if char == "[":
            return self.array()
        if char == "{":
            return self.inline_table()
        match = _BOOLEAN.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return match.group() == "true"
        match = _PREFIXED.match(self.text, self.pos) or _INTEGER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return int(match.group().replace("_", ""), 0)
        raise self.fail("a value skomirror does not read (only strings, booleans, integers, arrays, tables)")

    def string(self) -> str:
        quote = self.peek()
        multi = self.peek(3) == quote * 3
        self.pos += 3 if multi else 1
        if multi and self.peek() == "\n":
            self.pos += 1
        elif multi and self.peek(2) == "\r\n":
            self.pos += 2
        out = []
        while True:
            if self.pos >= len(self.text):
                raise self.fail("unterminated string")
            char = self.text[self.pos]
            if multi and self.peek(3) == quote * 3:
                run = len(self.text[self.pos:]) - len(self.text[self.pos:].lstrip(quote))
                if run > 5:
                    raise self.fail("too many quotes closing a multi-line string")
                self.pos += run
                return "".join(out) + quote * (run - 3)  # one or two quotes may end the content
            if not multi and char == quote:
                self.pos += 1
                return "".join(out)
            if char == "\n" and not multi:
                raise self.fail("newline in a single-line string")
            if char == "\\" and quote == '"':
                out.append(self.escape(multi))
                continue
            if ord(char) < 0x20 and char not in "\t\n\r" or char == "\x7f":
                raise self.fail("control character in a string")
            out.append(char)
            self.pos += 1

    def escape(self, multi: bool) -> str:
        self.pos += 1
        char = self.peek()
        if char in _ESCAPES:
            self.pos += 1
            return _ESCAPES[char]
        if char in ("u", "U"):
            width = 4 if char == "u" else 8
            digits = self.text[self.pos + 1:self.pos + 1 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
                raise self.fail("bad unicode escape")
            self.pos += 1 + width
            try:
                return chr(int(digits, 16))
            except ValueError:
                raise self.fail("bad unicode escape") from None
        if multi and re.match(r"[ \t]*\r?\n", self.text[self.pos:]):  # line-ending backslash: trim to next text
            while self.peek() in (" ", "\t", "\r", "\n") and self.peek():
                self.pos += 1
            return ""
        raise self.fail(f"unknown escape \\{char}")

    def array(self) -> list:
        self.expect("[")
        items = []
        while True:
            self.skip_blank()
            if self.peek() == "]":
                self.pos += 1
                return items
            items.append(self.value())
            self.skip_blank()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise self.fail("expected ',' or ']' in an array")

    def inline_table(self) -> dict:
        self.expect("{")
        table: Dict[str, Any] = {}
        self.explicit.add(id(table))
        self.skip_spaces()
        if self.peek() == "}":
            self.pos += 1
            return table
        while True:
            self.key_value(table)
            self.skip_spaces()
            if self.peek() == "}":
                self.pos += 1
                return table
            self.expect(",")

    # --- statements ---

    def key_value(self, table: dict) -> None:
        keys = self.key()
        self.expect("=")
        self.skip_spaces()
        line = self.line
        value = self.value()
        if isinstance(value, dict):
            self.explicit.add(id(value))
        for key in keys[:-1]:
            table = self.descend(table, key, line)
        if keys[-1] in table:
            raise TomlError(line, f"key {'.'.join(keys)!r} is defined twice")
        table[keys[-1]] = value

    def descend(self, table: dict, key: str, line: int) -> dict:
        """The sub-table `key` of `table` for a dotted key, made when missing."""
        if key not in table:
            table[key] = {}
        child = table[key]
        if not isinstance(child, dict) or id(child) in self.explicit:
            raise TomlError(line, f"key {key!r} is already a value")
        return child

    def header(self, root: dict) -> dict:
        array = self.peek(2) == "[["
        self.pos += 2 if array else 1
        line = self.line
        keys = self.key()
        self.expect("]")
        if array:
            self.expect("]")
        table = root
        for key in keys[:-1]:
            child = table.setdefault(key, {})
            if isinstance(child, list) and id(child) in self.appendable:
                child = child[-1]
            if not isinstance(child, dict):
                raise TomlError(line, f"key {key!r} is already a value")
            table = child
        last = keys[-1]
        if array:
            existing = table.setdefault(last, [])
            if not isinstance(existing, list) or (existing and id(existing) not in self.appendable):
                raise TomlError(line, f"{'.'.join(keys)!r} is already a value")
            self.appendable.add(id(existing))
            existing.append({})
            return existing[-1]
        existing = table.setdefault(last, {})
        if not isinstance(existing, dict) or id(existing) in self.explicit:
            raise TomlError(line, f"table {'.'.join(keys)!r} is defined twice")
        self.explicit.add(id(existing))
        return existing

    def document(self) -> dict:
        root: Dict[str, Any] = {}
        current = root
        while True:
            self.skip_blank()
            if self.pos >= len(self.text):
                return root
            if self.peek() == "[":
                current = self.header(root)
            else:
                self.key_value(current)
            self.end_of_line()


def parse_toml(text: str) -> Dict[str, Any]:
    """The document as dicts and lists; TomlError (with its line) for anything outside the subset."""
    return _Parser(text).document()
