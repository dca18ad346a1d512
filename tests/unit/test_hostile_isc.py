"""Hostile ImageSetConfigurations: whatever the file holds, a loaded config or one short error line, at once.

The fuzz cases are the examples' and the tests' ISCs, mutated by a seeded generator (lines deleted and
duplicated, values retagged, alias bombs shaped to the schema, huge numbers, deep nesting, long values,
binary garbage, backtracking patterns), so every run tries the same few hundred files.
"""

import json
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from skomirror.config import load_config
from skomirror.errors import ConfigError, SkomirrorError
from skomirror.linear_regex import compile_pattern
from tests.unit.test_config import FULL_V2
from tests.unit.test_validation import ROWS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEAD = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\n"
LONGEST_LINE = 300
TAGS = ["!!float", "!!int", "!!timestamp", "!!binary", "!!bool", "!!null", "!!str", "!!set", "!!omap", "!tag",
        "!!python/object:os.system", "!<tag:example.com,2000:thing>", "!"]
PATTERNS = [r"^(.*)*-debug$", r"(a|aa)+$", r"(a)\1", r"(?!x)", r"a{5000}", r"((((((((((x))))))))))*", "[", "\\"]


def seeds():
    """The examples, the README's ISC, and the ISCs of the config tests."""
    readme = (EXAMPLES.parent / "README.md").read_text()
    texts = [path.read_text() for path in sorted(EXAMPLES.glob("*.yaml"))] + [FULL_V2]
    texts += [block for block in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "ImageSetConfiguration" in block]
    for row in ROWS:  # as test_validation writes them: the header is not indented, the body may be
        kind_line, version_line, body = row.values[0].split("\n", 2)
        texts.append(f"{kind_line}\n{version_line}\n{textwrap.dedent(body)}")
    return texts


def schema_bomb(rng: random.Random) -> str:
    """Operators sharing one package list, packages sharing one channel list: n**3 channels from 3n lines."""
    n = rng.randint(40, 80)
    lines = [HEAD.rstrip("\n"), "mirror:", "  operators:", "  - catalog: quay.io/a/index:v1", "    packages: &p"]
    for i in range(n):
        lines += [f"    - name: p{i}", "      channels: *c" if i else "      channels: &c"]
        if not i:
            lines += [f"      - name: c{j}" for j in range(n)]
    lines += [f"  - catalog: quay.io/a/index{i}:v1\n    packages: *p" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def laughs(rng: random.Random) -> str:
    levels = rng.randint(6, 12)
    lines = [HEAD.rstrip("\n"), 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines + ["mirror: {}"]) + "\n"


def value_lines(lines):
    return [i for i, line in enumerate(lines) if ": " in line and not line.rstrip().endswith(":")]


def mutate(rng: random.Random, text: str):
    """(what was done, the mutated bytes)."""
    lines = text.splitlines()
    values = value_lines(lines) or [0]
    kind = rng.choice(["delete", "duplicate", "retag", "bomb", "laughs", "huge number", "deep", "long value",
                       "long key", "garbage", "truncate", "indent", "pattern", "self alias"])
    at = rng.randrange(len(lines))
    key_line = rng.choice(values)
    key, _, value = lines[key_line].partition(": ")
    if kind == "delete":
        del lines[at]
    elif kind == "duplicate":
        lines.insert(at, lines[at])
    elif kind == "retag":
        lines[key_line] = f"{key}: {rng.choice(TAGS)} {value}"
    elif kind == "bomb":
        return kind, schema_bomb(rng).encode()
    elif kind == "laughs":
        return kind, laughs(rng).encode()
    elif kind == "huge number":
        number = rng.choice(["9" * 5000, "-" + "9" * 25, "1e400", "0x" + "f" * 40, ".inf", ".nan", "1_000_000"])
        lines[key_line] = f"{key}: {number}"
        lines.insert(2, f"archiveSize: {number}")
    elif kind == "deep":
        depth = rng.choice([70, 500, 5000, 50000])
        lines[key_line] = f"{key}: " + rng.choice(["[" * depth + "]" * depth, "{a: " * depth + "1" + "}" * depth])
    elif kind == "long value":
        lines[key_line] = f"{key}: " + rng.choice(["a", "quay.io/", "é", "\\\\"]) * rng.choice([500, 200_000])
    elif kind == "long key":
        lines[key_line] = f"{key.rstrip()}{'k' * rng.choice([300, 100_000])}: {value}"
    elif kind == "garbage":
        blob = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        data = "\n".join(lines).encode()
        spot = rng.randrange(len(data) + 1)
        return kind, data[:spot] + blob + data[spot:]
    elif kind == "truncate":
        data = "\n".join(lines).encode()
        return kind, data[:rng.randrange(len(data) + 1)]
    elif kind == "indent":
        lines[at] = " " * rng.choice([1, 3, 9]) + lines[at]
    elif kind == "pattern":
        lines += ["  blockedImages:", f"  - name: '{rng.choice(PATTERNS)}'"]
    elif kind == "self alias":
        lines[key_line] = f"{key}: &me [*me]"
    return kind, ("\n".join(lines) + "\n").encode()


@pytest.fixture
def hang_guard():
    """A hang fails the test instead of stopping the suite (the loader is Python, so the alarm gets through)."""
    def hung(signum, frame):
        raise TimeoutError("still running after 20 s")
    previous = signal.signal(signal.SIGALRM, hung)
    yield lambda: signal.alarm(20)
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_mutated_iscs_load_or_fail_with_one_short_line(tmp_path, monkeypatch, hang_guard):
    monkeypatch.chdir(tmp_path)  # errors start with `isc.yaml:`, so the line length is skomirror's own
    rng = random.Random(2024)
    texts, outcomes, slowest = seeds(), {"loaded": 0, "refused": 0}, 0.0
    assert len(texts) >= 25
    for case in range(400):
        kind, data = mutate(rng, rng.choice(texts))
        Path("isc.yaml").write_bytes(data)
        warnings = []
        hang_guard()
        started = time.monotonic()
        try:
            config = load_config(Path("isc.yaml"), warnings.append)
            name = "quay.io/" + "a" * 32  # 40 characters, as the measure
            for blocked in config.mirror.blocked_images:
                compile_pattern(blocked.name).search(name)
            outcomes["loaded"] += 1
            lines = warnings
        except SkomirrorError as exc:
            outcomes["refused"] += 1
            lines = [str(exc)]
        except Exception as exc:  # noqa: BLE001 (the point of the test)
            raise AssertionError(f"case {case} ({kind}) ended in {type(exc).__name__}: {str(exc)[:200]}") from exc
        elapsed = time.monotonic() - started
        slowest = max(slowest, elapsed)
        assert elapsed < 1.0, f"case {case} ({kind}) took {elapsed:.2f}s"  # a guard, not a performance claim
        for line in lines:
            assert "\n" not in line and len(line) <= LONGEST_LINE, f"case {case} ({kind}): {line[:400]}"
            assert line.startswith("isc.yaml"), f"case {case} ({kind}): {line[:200]}"
    assert outcomes["loaded"] >= 15 and outcomes["refused"] >= 300, outcomes  # the mutations reach past the header
    print(f"{outcomes}, slowest case {slowest:.3f}s")


def test_an_alias_bomb_is_refused_where_it_crosses_the_limit(tmp_path):
    isc = tmp_path / "isc.yaml"
    isc.write_text(schema_bomb(random.Random(1)))
    started = time.monotonic()
    with pytest.raises(ConfigError) as refused:
        load_config(isc)
    assert time.monotonic() - started < 1.0  # a guard: walking the million channels took 10 s and more
    message = str(refused.value).replace(str(tmp_path) + "/", "")
    assert message.startswith("isc.yaml:") and "holds more than 100,000 values once its aliases are expanded" in message


def test_a_backtracking_blocked_images_pattern_finishes_against_a_40_character_name(tmp_path):
    """`^(.*)*-debug$` runs for minutes in Python's re (it never matches a name with a tag, the slowest case); the
    whole load-and-plan, in a child with a timeout."""
    isc = tmp_path / "isc.yaml"
    isc.write_text(HEAD + "mirror:\n  additionalImages:\n  - name: quay.io/team/abcdefghijklmnopqrstuvwxy:1\n"
                          "  - name: quay.io/team/app-debug:1\n  blockedImages:\n  - name: '^(.*)*-debug$'\n"
                          "  - name: '^(.*)*-debug:1$'\n")
    script = textwrap.dedent(f"""\
        import json, time
        from skomirror.collectors.types import CollectedImage, ImageKind
        from skomirror.config import load_config
        from skomirror.endpoints.registry import RegistryEndpoint
        from skomirror.imageref import ImageRef
        from skomirror.naming import parse_destination
        from skomirror.plan import make_plan
        started = time.monotonic()
        config = load_config({str(isc)!r})
        images = [CollectedImage(ImageRef.parse(i.name), i.name, ImageKind.ADDITIONAL, i.where)
                  for i in config.mirror.additional_images]
        assert len(images[0].origin) == 40
        plan = make_plan(images, RegistryEndpoint(), RegistryEndpoint(parse_destination("docker://m.example")),
                         config.mirror.blocked_images)
        print(json.dumps([[i.origin for i in plan.images], [b.image.origin for b in plan.blocked],
                          time.monotonic() - started]))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    kept, blocked, elapsed = json.loads(result.stdout)
    assert (kept, blocked) == (["quay.io/team/abcdefghijklmnopqrstuvwxy:1"], ["quay.io/team/app-debug:1"])
    assert elapsed < 1.0  # a guard: re would still be running


@pytest.mark.parametrize("value, expected", [
    ("!tag quay.io/a/b:1", ("warning", "isc.yaml:5: mirror.additionalImages[0].name: the YAML tag '!tag' means "
                                       "nothing here and is ignored, as oc-mirror ignores it: read as the string "
                                       "'quay.io/a/b:1'")),
    ("!!python/object:os.system quay.io/a/b:1", ("warning", "the YAML tag '!!python/object:os.system' means")),
    ("!!str quay.io/a/b:1", ("loaded", "quay.io/a/b:1")),
    ("!!binary cXVheS5pby9hL2I6MQ==", ("loaded", "quay.io/a/b:1")),  # base64, decoded as oc-mirror's YAML does
    ("!!float abc", ("error", "isc.yaml:5: mirror.additionalImages[0].name: 'abc' is not a valid !!float")),
    ("!!timestamp abc", ("error", "'abc' is not a valid !!timestamp")),
    ("2024-13-45", ("error", "'2024-13-45' is not a valid !!timestamp")),
    ("2024-01-05", ("error", "expected a string, got '2024-01-05'; quote it: '2024-01-05'")),
    ("!!set {a, b}", ("error", "expected a string, got a mapping")),
])
def test_every_yaml_tag_is_read_or_refused_in_one_line(tmp_path, value, expected):
    isc = tmp_path / "isc.yaml"
    isc.write_text(HEAD + f"mirror:\n  additionalImages:\n  - name: {value}\n")
    warnings = []
    outcome, text = expected
    try:
        config = load_config(isc, warnings.append)
    except ConfigError as exc:
        assert outcome == "error" and text in str(exc).replace(str(tmp_path) + "/", "")
        return
    if outcome == "warning":
        assert len(warnings) == 1 and text in warnings[0].replace(str(tmp_path) + "/", "")
    else:
        assert outcome == "loaded" and config.mirror.additional_images[0].name == text and not warnings


@pytest.mark.parametrize("body, expected", [
    ("archiveSize: " + "9" * 5000 + "\nmirror: {}\n",
     "isc.yaml:3: archiveSize: the number '9999999…(5,002 characters)…9999999' is too large; oc-mirror reads "
     "64-bit integers"),
    ("archiveSize: 9223372036854775808\nmirror: {}\n", "isc.yaml:3: archiveSize: the number '9223372036854775808' "
                                                       "is too large"),
    ("mirror:\n  additionalImages:\n  - name: " + "a" * 100_000 + ":1\n",
     "isc.yaml:5: mirror.additionalImages[0].name: 'aaaaaaaaaaaaaaaaaaa…(100,004 characters)…aaaaaaaaaaaaaaaaa:1' "
     "has a name of 100,000 characters; a registry takes at most 255"),
    ("mirror:\n  " + "k" * 1000 + ": 1\n", "isc.yaml:4: mirror.kkkkkkkkkk…(1,000 characters)…kkkkkkkkkk: unknown key "
                                          "'kkkkkkkkk…(1,002 characters)…kkkkkkkkk'; expected one of"),
    ("mirror: &m\n  helm: *m\n", "isc.yaml:4:9: the alias *m is inside the node it names"),
    ("mirror:\n  additionalImages: " + "[" * 100 + "]" * 100 + "\n", "isc.yaml:4:"),
])
def test_long_or_endless_values_give_a_short_line_that_keeps_the_location(tmp_path, body, expected):
    isc = tmp_path / "isc.yaml"
    isc.write_text(HEAD + body)
    with pytest.raises(ConfigError) as refused:
        load_config(isc)
    message = str(refused.value).replace(str(tmp_path) + "/", "")
    assert message.startswith(expected) and len(message) <= LONGEST_LINE, message
