"""Regular expressions searched in time linear in the text, as Go's regexp (RE2) searches oc-mirror's blockedImages.

Python's `re` backtracks: `^(.*)*-debug$` against a 40-character name runs for minutes, and so do `(a|aa)+x`
and `.*a.*a.*a.*a.*x` (no nested quantifier there), so refusing some shapes cannot make it safe. Here the pattern
is parsed by `re`'s own parser (the syntax and its errors are re's), compiled to a Thompson NFA, and searched with
a DFA built lazily from it, one cached transition per (state, character): each character of the text costs one
dictionary look-up, or at worst one pass over the NFA, whatever the pattern. Only a yes/no answer is needed, so
greedy and lazy repeats are the same and groups capture nothing.

Refused, because they need backtracking: backreferences, lookahead and lookbehind, conditional groups, atomic
groups and possessive repeats. Go's regexp has none of them either, and it refuses repeat counts above 1000 and
expressions that expand too far (this does at 10,000 steps).
"""

import functools
import threading
import warnings
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple, Union

try:  # Python >= 3.11
    from re import _constants as _sre, _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # Python 3.9, 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

MAX_REPEAT_COUNT = 1000  # as Go's regexp/syntax
MAX_PROGRAM = 10_000  # NFA steps after counted repeats are expanded
_MAX_STATES = 2_000  # DFA states kept; past this the cache starts again (time stays linear)

_CHAR, _SPLIT, _JUMP, _ASSERT, _MATCH = range(5)
_MATCHED = -1  # a transition that found a match

# what holds at a position of the text; an assertion asks for one of these
_BEGIN_STRING, _BEGIN_LINE, _END_STRING, _END_OR_FINAL_NEWLINE, _END_LINE = 1, 2, 4, 8, 16
_BOUNDARY, _NOT_BOUNDARY, _ASCII_BOUNDARY, _ASCII_NOT_BOUNDARY = 32, 64, 128, 256
_AT_EDGES_ONLY = _BEGIN_STRING | _END_STRING | _END_OR_FINAL_NEWLINE  # true at the first or last two positions only

_IGNORECASE, _MULTILINE, _DOTALL, _ASCII = (_sre.SRE_FLAG_IGNORECASE, _sre.SRE_FLAG_MULTILINE,
                                            _sre.SRE_FLAG_DOTALL, _sre.SRE_FLAG_ASCII)

_REFUSED = {
    "GROUPREF": "a backreference (\\1, (?P=name)) needs backtracking; write the repeated part out",
    "ASSERT": "a lookahead or lookbehind ((?=...), (?<=...)) needs backtracking; write what the name contains",
    "ASSERT_NOT": "a negative lookahead or lookbehind ((?!...), (?<!...)) needs backtracking; list what to block "
                  "instead of what not to block",
    "GROUPREF_EXISTS": "a conditional group ((?(1)...|...)) needs backtracking; write the alternatives with |",
    "ATOMIC_GROUP": "an atomic group ((?>...)) is not needed: matching is linear anyway; write a plain group",
    "POSSESSIVE_REPEAT": "a possessive repeat (*+, ++, ?+) is not needed: matching is linear anyway; drop the +",
}

Predicate = Callable[[str], bool]
Instruction = Tuple


class PatternError(ValueError):
    """A pattern that cannot be searched in linear time, or does not parse (`malformed`); the message says why."""

    def __init__(self, message: str, malformed: bool = False):
        super().__init__(message)
        self.malformed = malformed


def _op(name: str):
    return getattr(_sre, name, None)  # ATOMIC_GROUP and POSSESSIVE_REPEAT exist from Python 3.11


def _name(constant) -> str:
    return getattr(constant, "name", str(constant))


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _is_ascii_word(char: str) -> bool:
    return char.isascii() and _is_word(char)


def _context(text: str, index: int) -> int:
    """The assertions that hold before text[index] (index == len(text): at the end)."""
    size = len(text)
    before = text[index - 1] if index else ""
    after = text[index] if index < size else ""
    held = 0
    if not index:
        held |= _BEGIN_STRING | _BEGIN_LINE
    elif before == "\n":
        held |= _BEGIN_LINE
    if index == size:
        held |= _END_STRING | _END_OR_FINAL_NEWLINE | _END_LINE
    elif after == "\n":
        held |= _END_LINE | (_END_OR_FINAL_NEWLINE if index == size - 1 else 0)
    if size:  # as re: neither \b nor \B matches in an empty text
        held |= _BOUNDARY if _is_word(before) != _is_word(after) else _NOT_BOUNDARY
        held |= _ASCII_BOUNDARY if _is_ascii_word(before) != _is_ascii_word(after) else _ASCII_NOT_BOUNDARY
    return held


def _case_variants(char: str, flags: int) -> FrozenSet[str]:
    if not flags & _IGNORECASE or (flags & _ASCII and not char.isascii()):
        return frozenset((char,))
    return frozenset((char, char.lower(), char.upper()))


def _category(category, flags: int) -> Predicate:
    ascii_only = bool(flags & _ASCII)
    tests = {
        "DIGIT": (lambda c: "0" <= c <= "9") if ascii_only else str.isdecimal,
        "SPACE": (lambda c: c in " \t\n\r\f\v") if ascii_only else str.isspace,
        "WORD": _is_ascii_word if ascii_only else _is_word,
    }
    name = _name(category).replace("CATEGORY_", "")
    negated = name.startswith("NOT_")
    test = tests.get(name.replace("NOT_", ""))
    if test is None:
        raise PatternError(f"the class {name.lower()} is not supported")
    return (lambda c: not test(c)) if negated else test


def _character_class(items: Sequence, flags: int) -> Predicate:
    negate = bool(items) and items[0][0] is _sre.NEGATE
    chars, ranges, categories = set(), [], []
    for op, value in items[1:] if negate else items:
        if op is _sre.LITERAL:
            chars.add(chr(value))
        elif op is _sre.RANGE:
            ranges.append(value)
        elif op is _sre.CATEGORY:
            categories.append(_category(value, flags))
        else:
            raise PatternError(f"{_name(op).lower()} inside [...] is not supported")

    def member(char: str) -> bool:
        for variant in _case_variants(char, flags):
            if variant in chars or any(low <= ord(variant) <= high for low, high in ranges if len(variant) == 1):
                return True
        return any(test(char) for test in categories)

    return (lambda c: not member(c)) if negate else member


def _literal(code: int, flags: int, negated: bool = False) -> Predicate:
    variants = _case_variants(chr(code), flags)
    if len(variants) == 1:
        (char,) = variants
        return (lambda c: c != char) if negated else (lambda c: c == char)
    return lambda c: variants.isdisjoint(_case_variants(c, flags)) == negated


class _Compiler:
    """re's parse tree -> a list of instructions (Pike's VM: char, split, jump, assert, match)."""

    def __init__(self):
        self.code: List[Instruction] = []
        self.asserted = 0

    def emit(self, *instruction) -> int:
        if len(self.code) >= MAX_PROGRAM:
            raise PatternError(f"it expands to more than {MAX_PROGRAM:,} steps; use fewer or smaller counted "
                               f"repeats ({{n}})")
        self.code.append(instruction)
        return len(self.code) - 1

    def sequence(self, items, flags: int) -> None:
        for op, value in items:
            self.node(op, value, flags)

    def node(self, op, value, flags: int) -> None:
        if op is _sre.LITERAL or op is _sre.NOT_LITERAL:
            self.emit(_CHAR, _literal(value, flags, negated=op is _sre.NOT_LITERAL))
        elif op is _sre.ANY:
            self.emit(_CHAR, (lambda c: True) if flags & _DOTALL else (lambda c: c != "\n"))
        elif op is _sre.IN:
            self.emit(_CHAR, _character_class(value, flags))
        elif op is _sre.AT:
            self.assertion(value, flags)
        elif op is _sre.SUBPATTERN:
            _group, added, removed, items = value
            self.sequence(items, (flags | added) & ~removed)
        elif op is _sre.BRANCH:
            self.alternatives(value[1], flags)
        elif op is _sre.MAX_REPEAT or op is _sre.MIN_REPEAT:
            self.repeat(*value, flags)
        else:
            name = next((name for name in _REFUSED if op is _op(name)), None)
            raise PatternError(_REFUSED[name] if name else f"{_name(op).lower()} is not supported")

    def assertion(self, at, flags: int) -> None:
        multiline, ascii_only = flags & _MULTILINE, flags & _ASCII
        wanted = {
            _sre.AT_BEGINNING: _BEGIN_LINE if multiline else _BEGIN_STRING,
            _sre.AT_BEGINNING_STRING: _BEGIN_STRING,
            _sre.AT_END: _END_LINE if multiline else _END_OR_FINAL_NEWLINE,
            _sre.AT_END_STRING: _END_STRING,
            _sre.AT_BOUNDARY: _ASCII_BOUNDARY if ascii_only else _BOUNDARY,
            _sre.AT_NON_BOUNDARY: _ASCII_NOT_BOUNDARY if ascii_only else _NOT_BOUNDARY,
        }.get(at)
        if wanted is None:
            raise PatternError(f"{_name(at).lower()} is not supported")
        self.asserted |= wanted
        self.emit(_ASSERT, wanted)

    def alternatives(self, branches, flags: int) -> None:
        exits = []
        for branch in branches[:-1]:
            split = self.emit(_SPLIT, None, None)
            self.sequence(branch, flags)
            exits.append(self.emit(_JUMP, None))
            self.code[split] = (_SPLIT, split + 1, len(self.code))
        self.sequence(branches[-1], flags)
        for jump in exits:
            self.code[jump] = (_JUMP, len(self.code))

    def repeat(self, least: int, most: int, items, flags: int) -> None:
        unbounded = most == _sre.MAXREPEAT
        if least > MAX_REPEAT_COUNT or (not unbounded and most > MAX_REPEAT_COUNT):
            raise PatternError(f"a repeat count above {MAX_REPEAT_COUNT} ({{{least},{'' if unbounded else most}}}), "
                               f"which Go's regexp refuses too; use a smaller count, or + or *")
        for _ in range(least):
            self.sequence(items, flags)
        if unbounded:
            loop = self.emit(_SPLIT, None, None)
            self.sequence(items, flags)
            self.emit(_JUMP, loop)
            self.code[loop] = (_SPLIT, loop + 1, len(self.code))
            return
        optional = []
        for _ in range(most - least):
            optional.append(self.emit(_SPLIT, None, None))
            self.sequence(items, flags)
        for split in optional:
            self.code[split] = (_SPLIT, split + 1, len(self.code))


class LinearPattern:
    """One compiled pattern; `search` says whether it matches anywhere in a text, as `re.search` would."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", FutureWarning)  # re's "possible nested set": Go's [[:alpha:]]
                parsed = _sre_parse.parse(pattern)
        except FutureWarning as warning:
            raise PatternError(f"{warning}: [[ is a POSIX class in Go's syntax ([[:alpha:]]) but not in "
                               f"Python's; write the class out ([a-zA-Z]) or escape the [", malformed=True) from None
        except _sre.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise PatternError(f"{exc.msg}{where}", malformed=True) from None
        except (RecursionError, OverflowError):
            raise PatternError("it is nested too deeply") from None
        flags = parsed.state.flags
        compiler = _Compiler()
        compiler.sequence(parsed, flags)
        compiler.emit(_MATCH)
        self._code = compiler.code
        self._asserted = compiler.asserted
        plain = all(op is _sre.LITERAL for op, _ in parsed) and not flags & _IGNORECASE
        self._literal: Optional[str] = "".join(chr(value) for _, value in parsed) if plain else None
        self._lock = threading.Lock()
        self._forget()
        self._anchored = not any(self._closure(frozenset(), 0))  # no thread can start away from the edges

    def _forget(self) -> None:
        """The DFA: state 0 is the empty set of threads (a new thread starts at every position anyway)."""
        self._sets: List[FrozenSet[int]] = [frozenset()]
        self._ids: Dict[FrozenSet[int], int] = {frozenset(): 0}
        self._rows: List[Dict[Union[str, Tuple[int, str]], int]] = [{}]
        self._ends: Dict[Tuple[int, int], bool] = {}

    def search(self, text: str) -> bool:
        if self._literal is not None:
            return self._literal in text
        with self._lock:
            return self._search(text)

    def _search(self, text: str) -> bool:
        asserted, size = self._asserted, len(text)
        edges_only = not asserted & ~_AT_EDGES_ONLY
        state, index = 0, 0
        while index < size:
            char, held = text[index], 0
            if asserted and (not edges_only or index == 0 or index >= size - 1):
                held = _context(text, index) & asserted
            key = (held, char) if held else char
            following = self._rows[state].get(key)
            if following is None:
                following = self._transition(state, held, char, key)
            if following == _MATCHED:
                return True
            state = following
            index += 1
            if not state and edges_only and self._anchored and index < size - 2:
                index = size - 2  # `^...`: nothing can start inside the text; only its end may still match
        held = _context(text, size) & asserted
        found = self._ends.get((state, held))
        if found is None:
            found = self._ends[(state, held)] = self._closure(self._sets[state], held)[1]
        return found

    def _closure(self, threads: FrozenSet[int], held: int) -> Tuple[List[int], bool]:
        """The char instructions reachable from `threads` and a new thread at 0 without consuming; and whether
        the match instruction is among them."""
        code, seen, waiting, stack = self._code, set(), [], [0, *threads]
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            instruction = code[pc]
            kind = instruction[0]
            if kind == _CHAR:
                waiting.append(pc)
            elif kind == _SPLIT:
                stack += (instruction[2], instruction[1])
            elif kind == _JUMP:
                stack.append(instruction[1])
            elif kind == _ASSERT:
                if held & instruction[1]:
                    stack.append(pc + 1)
            else:
                return waiting, True
        return waiting, False

    def _transition(self, state: int, held: int, char: str, key) -> int:
        waiting, matched = self._closure(self._sets[state], held)
        if matched:
            following = _MATCHED
        else:
            after = frozenset(pc + 1 for pc in waiting if self._code[pc][1](char))
            if after not in self._ids and len(self._sets) >= _MAX_STATES:
                self._forget()
                state = -1  # the row it came from is gone
            following = self._ids.get(after)
            if following is None:
                following = self._ids[after] = len(self._sets)
                self._sets.append(after)
                self._rows.append({})
        if state >= 0:
            self._rows[state][key] = following
        return following


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> LinearPattern:
    """The pattern, compiled once per process; PatternError says why it cannot be."""
    return LinearPattern(pattern)
