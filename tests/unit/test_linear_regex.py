"""blockedImages patterns, searched in linear time: the same answers as re.search, without its backtracking."""

import random
import re
import subprocess
import sys
import textwrap

import pytest

from skomirror.linear_regex import MAX_PROGRAM, PatternError, compile_pattern

ATOMS = ["a", "b", ".", "[ab]", "[^a]", r"\d", r"\w", r"\W", r"\s", "-", "/", "(?i:A)", r"\.", "[a-c0-9]",
         "^", "$", r"\b", r"\B", r"\A", r"\Z"]
BOUNDED = ["?", "{2}", "{1,3}", "{0,2}?"]
UNBOUNDED = ["*", "+", "*?", "+?", "{2,}"]
TEXTS = ["", "a", "ab", "AB", "a-b/c.d", "quay.io/a/b-debug:1", "x\n", "a\nb", "9", "  ", "abba", "b-a_x1", "é"]


def random_pattern(rng: random.Random, depth: int = 0, in_unbounded: bool = False) -> str:
    """No unbounded repeat inside another: re, the reference here, would take minutes on some of them."""
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice(ATOMS)
    if roll < 0.55:
        return random_pattern(rng, depth + 1, in_unbounded) + random_pattern(rng, depth + 1, in_unbounded)
    if roll < 0.7:
        return f"({random_pattern(rng, depth + 1, in_unbounded)}|{random_pattern(rng, depth + 1, in_unbounded)})"
    quantifier = rng.choice(BOUNDED if in_unbounded else BOUNDED + UNBOUNDED)
    inner = random_pattern(rng, depth + 1, in_unbounded or quantifier in UNBOUNDED)
    return f"(?:{inner}){quantifier}"


def test_answers_as_re_search_does_on_a_thousand_random_patterns():
    rng = random.Random(14)
    compared = 0
    for _ in range(1000):
        pattern = rng.choice(["", "(?i)", "(?m)", "(?s)", "(?a)", "(?ms)"]) + random_pattern(rng)
        expected = re.compile(pattern)
        linear = compile_pattern(pattern)
        texts = TEXTS + ["".join(rng.choice("ab-./x1A\n") for _ in range(rng.randint(0, 12))) for _ in range(4)]
        for text in texts:
            assert linear.search(text) == bool(expected.search(text)), (pattern, text)
            compared += 1
    assert compared > 15_000


@pytest.mark.parametrize("pattern, text, found", [
    (r"^registry\.redhat\.io/ubi8/", "registry.redhat.io/ubi8/ubi:8.9", True),
    (r"^registry\.redhat\.io/ubi8/", "quay.io/registry.redhat.io/ubi8/x:1", False),
    (r"-debug$", "quay.io/a/app-debug", True),
    (r"-debug$", "quay.io/a/app-debug:1", False),
    (r"(?i)CLOUD-(aws|azure)", "quay.io/a/cloud-azure-controller:1", True),
    (r"sha256:[0-9a-f]{64}$", "quay.io/a/b@sha256:" + "0" * 64, True),
    (r"sha256:[0-9a-f]{64}$", "quay.io/a/b@sha256:" + "0" * 63, False),
    ("legacy", "quay.io/legacy/app:1", True),  # no metacharacter: a plain substring search
])
def test_typical_blocked_images_patterns(pattern, text, found):
    assert compile_pattern(pattern).search(text) is found


def test_backtracking_patterns_finish_at_once():
    """Each of these runs for minutes (or years) in Python's re on these texts; here, one pass each.

    Run in a child process with a timeout, so that a regression fails instead of hanging the suite
    (re's C loop cannot be interrupted); the limit is a guard, not a performance claim.
    """
    script = textwrap.dedent("""\
        from skomirror.linear_regex import compile_pattern
        name = "quay.io/" + "a" * 32
        cases = [(r"^(.*)*-debug$", name, False), (r"^(.*)*-debug$", name + "-debug", True),
                 (r"(a|aa)+-debug", name * 20, False), (r"(a*)*b", "a" * 5000, False),
                 (r".*a.*a.*a.*a.*a.*a.*-x", "a" * 3000, False), (r"(x+x+)+y", "x" * 5000, False)]
        for pattern, text, found in cases:
            assert compile_pattern(pattern).search(text) is found, pattern
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("pattern, reason", [
    (r"(a)\1", "a backreference"),
    (r"(?P<n>a)(?P=n)", "a backreference"),
    (r"^quay\.io/(?!openshift)", "a negative lookahead or lookbehind"),
    (r"(?<=quay\.io/)x", "a lookahead or lookbehind"),
    (r"(a)?(?(1)b|c)", "a conditional group"),
    (r"a{1001}", "a repeat count above 1000"),
    (r"(a{1000}){1000}", f"it expands to more than {MAX_PROGRAM:,} steps"),
    (r"(unclosed", "missing ), unterminated subpattern at position 0"),
    (r"^quay\.io/[[:alpha:]]+", "Possible nested set at position 11: [[ is a POSIX class in Go's syntax"),
    (r"\z", "bad escape \\z at position 0"),
])
def test_what_needs_backtracking_is_refused_with_what_to_write_instead(pattern, reason):
    with pytest.raises(PatternError) as refused:
        compile_pattern(pattern)
    message = str(refused.value)
    assert message.startswith(reason), message
    assert "\n" not in message and len(message) < 200


def test_a_pattern_is_compiled_once():
    assert compile_pattern("^a.*b") is compile_pattern("^a.*b")
