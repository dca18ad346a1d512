"""registries.conf read as containers/image reads it: files, drop-ins, prefixes, pull sources, refusals."""

from pathlib import Path

import pytest

from skomirror.registry import registries_conf
from skomirror.registry.registries_conf import RegistriesConf, matching_prefix_length
from skomirror.registry.toml_subset import TomlError, parse_toml


@pytest.fixture
def system(tmp_path, monkeypatch) -> Path:
    """/etc/containers stand-ins, so the machine's own files are never read or written."""
    root = tmp_path / "etc"
    (root / "registries.conf.d").mkdir(parents=True)
    monkeypatch.setattr(registries_conf, "SYSTEM_FILE", root / "registries.conf")
    monkeypatch.setattr(registries_conf, "SYSTEM_DROP_INS", root / "registries.conf.d")
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(home: Path, **environ) -> RegistriesConf:
    return RegistriesConf.load(dict(environ, HOME=str(home)))


def sources(conf: RegistriesConf, name: str, by_digest: bool = False):
    return [(source.name, source.insecure) for source in conf.find(name).pull_sources(name, by_digest)]


@pytest.mark.parametrize("text, expected", [
    ('a = "x" # c\n[t]\nb = [ "1",\n "2", ] # c\n', {"a": "x", "t": {"b": ["1", "2"]}}),
    ("[[r]]\nx = 1\n[[r.m]]\ny = 'lit\\n'\n[[r]]\nx = 0x10", {"r": [{"x": 1, "m": [{"y": "lit\\n"}]}, {"x": 16}]}),
    ('"quoted key" = { inline = true, n = -2 }\nd.e = "\\u00e9"', {"quoted key": {"inline": True, "n": -2},
                                                                    "d": {"e": "é"}}),
    ('s = """\nline\\\n   next"""\nt = \'\'\'raw "\'\'\'', {"s": "linenext", "t": 'raw "'}),
])
def test_the_toml_subset_reads_what_registries_conf_files_use(text, expected):
    assert parse_toml(text) == expected


@pytest.mark.parametrize("text, line", [
    ("a = 1.5", 1), ("a = 1\na = 2", 2), ("[t]\n[t]", 2), ('a = "open', 1), ("x = 1979-05-27", 1),
    ("a = [1 2]", 1), ("[[t]]\n[t]", 2), ("a = true false", 1), ("a = { b = 1\n}", 1),
])
def test_the_toml_subset_refuses_anything_else_naming_the_line(text, line):
    with pytest.raises(TomlError) as error:
        parse_toml(text)
    assert error.value.line == line


def test_the_environment_variable_file_and_both_drop_in_directories_are_read_in_order(system, tmp_path):
    write(system / "registries.conf", '[[registry]]\nlocation = "system.io"\ninsecure = true\n')
    explicit = write(tmp_path / "mine.conf", '[[registry]]\nprefix = "a.io"\nlocation = "mine.io"\n')
    write(system / "registries.conf.d/10-a.conf", '[[registry]]\nprefix = "a.io"\nlocation = "drop-in.io"\n')
    write(tmp_path / "home/.config/containers/registries.conf.d/20-b.conf",
          '[[registry]]\nprefix = "b.io"\nlocation = "user.io"\n')
    write(system / "registries.conf.d/ignored.txt", "not = [toml")
    conf = load(tmp_path / "home", CONTAINERS_REGISTRIES_CONF=str(explicit))
    assert conf.problem is None and conf.explicit == explicit
    assert conf.files == [explicit, system / "registries.conf.d/10-a.conf",
                          tmp_path / "home/.config/containers/registries.conf.d/20-b.conf"]
    assert conf.find("system.io/x") is None  # the system file is replaced by the explicit one
    assert sources(conf, "a.io/ns/app") == [("drop-in.io/ns/app", False)]  # a later file wins for its prefix
    assert sources(conf, "b.io/app") == [("user.io/app", False)]


def test_a_user_registries_conf_replaces_the_system_file_and_its_drop_ins(system, tmp_path):
    write(system / "registries.conf.d/10-a.conf", '[[registry]]\nlocation = "system.io"\nblocked = true\n')
    home = tmp_path / "home"
    write(home / ".config/containers/registries.conf", '[[registry]]\nlocation = "user.io"\ninsecure = true\n')
    conf = load(home)
    assert conf.find("system.io/x") is None and sources(conf, "user.io/x") == [("user.io/x", True)]
    assert load(tmp_path / "nobody").find("system.io/x").blocked


def test_pull_sources_follow_mirrors_prefixes_and_pull_from_mirror(system, tmp_path):
    write(system / "registries.conf", """
[[registry]]
prefix = "quay.io/ns"
location = "local:5000/quay/ns"
[[registry.mirror]]
location = "m1:5000/ns"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "m2:5000/ns"
insecure = true
pull-from-mirror = "tag-only"

[[registry]]
location = "quay.io"
mirror-by-digest-only = true
mirror = [{ location = "m3:5000" }]

[[registry]]
prefix = "*.example.com"
[[registry.mirror]]
location = "m4:5000/any"
""")
    conf = load(tmp_path)
    assert sources(conf, "quay.io/ns/app") == [("m2:5000/ns/app", True), ("local:5000/quay/ns/app", False)]
    assert sources(conf, "quay.io/ns/app", by_digest=True) == [("m1:5000/ns/app", False),
                                                                ("local:5000/quay/ns/app", False)]
    assert sources(conf, "quay.io/other/app") == [("quay.io/other/app", False)]  # digest-only mirrors
    assert sources(conf, "quay.io/other/app", True) == [("m3:5000/other/app", False), ("quay.io/other/app", False)]
    assert sources(conf, "a.b.example.com/x") == [("m4:5000/any/x", False), ("a.b.example.com/x", False)]
    assert conf.find("example.com/x") is None and conf.find("quay.io.evil/x") is None


@pytest.mark.parametrize("name, prefix, length", [
    ("quay.io/ns/app", "quay.io", 7), ("quay.io/ns/app", "quay.io/ns", 10), ("quay.io/nsx", "quay.io/ns", -1),
    ("quay.io:5000/a", "quay.io", 7),  # containers/image's known quirk: a port matches the bare host
    ("a.example.com/x", "*.example.com", 13), ("example.com/x", "*.example.com", -1),
    ("other.io/a.example.com", "*.example.com", -1),
])
def test_prefixes_match_as_containers_image_matches_them(name, prefix, length):
    assert matching_prefix_length(name, prefix) == length


def test_the_old_v1_format_blocks_and_allows_plain_http(system, tmp_path):
    write(system / "registries.conf", "[registries.search]\nregistries = ['docker.io']\n"
                                      "[registries.insecure]\nregistries = ['plain.io']\n"
                                      "[registries.block]\nregistries = ['bad.io']\n")
    conf = load(tmp_path)
    assert conf.problem is None and conf.find("bad.io/x").blocked and sources(conf, "plain.io/x") == [
        ("plain.io/x", True)]


@pytest.mark.parametrize("text, why", [
    ('[[registry]]\nlocation = "https://a.io"', "URI schemes are not supported"),
    ('[registries.block]\nregistries = ["a.io"]\n[[registry]]\nlocation = "b.io"', "mixing the v1 and v2"),
    ('[[registry]]\nlocation = "a.io"\n[[registry]]\nprefix = "a.io/x"\nlocation = "a.io"\ninsecure = true',
     "conflicting settings"),
    ('[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\ninsecure = true', "mirror location is unset"),
    ('[[registry]]\nprefix = "*.a.io:5000"', "should be in the format"),
    ('[[registry]]\nlocation = "a.io"\ninsecure = "yes"', "insecure must be true or false"),
    ("[registry]\nlocation = 'a.io'", "array of tables"),
    ('[[registry]]\nlocation = "a.io"\nretries = 1.5', "line 3"),
])
def test_a_file_skopeo_would_refuse_is_not_followed_and_says_why(system, tmp_path, text, why):
    write(system / "registries.conf", text)
    conf = load(tmp_path)
    assert conf.problem.startswith(f"{system / 'registries.conf'}: ") and why in conf.problem
    assert conf.warnings == [f"{conf.problem}: the survey cannot follow this registries.conf and asks skopeo "
                             "about every image"]


def test_a_drop_in_must_be_v2_and_a_missing_explicit_file_is_a_problem(system, tmp_path):
    write(system / "registries.conf.d/x.conf", "[registries.block]\nregistries = ['a.io']\n")
    assert "must be in the v2 format" in load(tmp_path).problem
    assert "cannot read it" in load(tmp_path, CONTAINERS_REGISTRIES_CONF=str(tmp_path / "none.conf")).problem


def test_credential_helpers_are_taken_from_the_last_file_that_sets_them(system, tmp_path):
    assert load(tmp_path).credential_helpers == ["containers-auth.json"]
    write(system / "registries.conf", 'credential-helpers = ["secretservice"]\n')
    assert load(tmp_path).credential_helpers == ["secretservice"]
    write(system / "registries.conf.d/z.conf", 'credential-helpers = []\n')
    assert load(tmp_path).credential_helpers == ["containers-auth.json"]
