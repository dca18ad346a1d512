import json
from pathlib import Path

import pytest
from plumbum import local

from skomirror.errors import SkomirrorError
from skomirror.skopeo import command
from skomirror.skopeo.command import (Capabilities, CopySettings, RegistryAccess, SignaturePolicy, Skopeo,
                                      check_authfile, parse_flags, parse_version)
from tests.unit.conftest import FAKE_SKOPEO, help_text


def register_probe(fake_process, version_line: str, copy_help: str) -> None:
    fake_process.register([FAKE_SKOPEO, "--version"], stdout=version_line)
    fake_process.register([FAKE_SKOPEO, "copy", "--help"], stdout=copy_help)


def test_probe_of_debian_skopeo_finds_no_parallel_copies_or_retry_delay(fake_process):
    register_probe(fake_process, "skopeo version 1.9.3\n", help_text("1.9.3"))
    skopeo = Skopeo.probe(FAKE_SKOPEO)
    assert skopeo.capabilities.version == (1, 9, 3)
    flags = skopeo.capabilities.copy_flags
    assert {"preserve-digests", "multi-arch", "all", "digestfile", "retry-times", "authfile"} <= flags
    assert "image-parallel-copies" not in flags and "retry-delay" not in flags


def test_probe_of_newer_skopeo_finds_the_new_flags(fake_process):
    register_probe(fake_process, "skopeo version 1.18.0 commit: 2d3a4b5\n", help_text("1.18"))
    skopeo = Skopeo.probe(FAKE_SKOPEO)
    assert skopeo.capabilities.version == (1, 18, 0)
    assert {"image-parallel-copies", "retry-delay", "preserve-digests"} <= skopeo.capabilities.copy_flags


def test_too_old_skopeo_is_refused_in_one_line(fake_process):
    old_help = "\n".join(line for line in help_text("1.9.3").splitlines()
                         if "--preserve-digests" not in line and "--multi-arch" not in line)
    register_probe(fake_process, "skopeo version 1.5.2\n", old_help)
    with pytest.raises(SkomirrorError, match=r"skopeo 1.5.2 is too old: skomirror needs --preserve-digests "
                                             r"\(skopeo >= 1.6.0\); install it: dnf install -y skopeo"):
        Skopeo.probe(FAKE_SKOPEO)


def test_missing_skopeo_gives_the_install_hint(tmp_path):
    with local.env(PATH=str(tmp_path)), pytest.raises(SkomirrorError, match="skopeo not found on PATH; install it: dnf install -y skopeo .* "
                                             "apt-get install -y skopeo"):
        Skopeo.locate()


def test_version_parsing():
    assert parse_version("skopeo version 1.14.4") == (1, 14, 4)
    assert parse_version("skopeo version 1.9.3\n") == (1, 9, 3)
    with pytest.raises(SkomirrorError):
        parse_version("garbage")


def test_flag_parsing_reads_short_and_long_forms():
    assert {"all", "quiet", "format"} <= parse_flags(help_text("1.9.3"))


SETTINGS = CopySettings(RegistryAccess(tls_verify=False), RegistryAccess(cert_dir=Path("/etc/certs")),
                        authfile=Path("/run/auth.json"))


def test_copy_command_on_debian_skopeo(old_skopeo):
    args = old_skopeo.copy_args("docker://a/b:1", "docker://c/b:1", SETTINGS, Path("/tmp/d"))
    assert args == ["--insecure-policy", "copy", "--multi-arch", "all", "--preserve-digests",
                    "--digestfile", "/tmp/d", "--authfile", "/run/auth.json", "--src-tls-verify=false",
                    "--dest-cert-dir", "/etc/certs", "docker://a/b:1", "docker://c/b:1"]


def test_parallel_layers_map_to_image_parallel_copies_where_it_exists(new_skopeo):
    settings = CopySettings(parallel_layers=10)
    args = new_skopeo.copy_args("docker://a/b:1", "docker://c/b:1", settings, Path("/tmp/d"))
    assert args[args.index("--image-parallel-copies") + 1] == "10"
    assert new_skopeo.unsupported(settings) == []


def test_parallel_layers_give_one_warning_on_old_skopeo(old_skopeo):
    settings = CopySettings(parallel_layers=10)
    args = old_skopeo.copy_args("docker://a/b:1", "docker://c/b:1", settings, Path("/tmp/d"))
    assert "--image-parallel-copies" not in args
    (warning,) = old_skopeo.unsupported(settings)
    assert "skopeo 1.9.3 has no --image-parallel-copies" in warning and "built-in 6 parallel layers" in warning
    assert old_skopeo.unsupported(CopySettings()) == []


def test_all_is_used_when_multi_arch_is_missing():
    from skomirror.skopeo.command import Capabilities
    skopeo = Skopeo("/x/skopeo", Capabilities((1, 6, 0), frozenset({"all", "preserve-digests", "digestfile"})))
    args = skopeo.copy_args("docker://a/b:1", "docker://c/b:1", CopySettings(), Path("/d"))
    assert "--all" in args and "--multi-arch" not in args


def test_no_credential_flag_ever_reaches_argv(old_skopeo, new_skopeo):
    for skopeo in (old_skopeo, new_skopeo):
        args = skopeo.copy_args("docker://a/b:1", "docker://c/b:1", SETTINGS, Path("/d"))
        args += skopeo.inspect_raw_args("docker://a/b:1", RegistryAccess(), Path("/run/auth.json"))
        assert not [arg for arg in args if "creds" in arg or "password" in arg or "username" in arg]


def test_containers_registries_conf_reaches_every_skopeo_command_as_registries_conf():
    """skopeo ignores CONTAINERS_REGISTRIES_CONF, podman honours it: skomirror passes it on."""
    skopeo = Skopeo(FAKE_SKOPEO, Capabilities((1, 9, 3), parse_flags(help_text("1.9.3"))), Path("/conf/r.conf"))
    for args in (skopeo.copy_args("docker://a/b:1", "docker://c/b:1", SETTINGS, Path("/d")),
                 skopeo.inspect_raw_args("docker://a/b:1", RegistryAccess(), None)):
        assert args[:3] == ["--insecure-policy", "--registries-conf", "/conf/r.conf"]


def test_inspect_command(old_skopeo):
    args = old_skopeo.inspect_raw_args("docker://a/b:1", RegistryAccess(False, Path("/c")), None)
    assert args == ["--insecure-policy", "inspect", "--raw", "--tls-verify=false", "--cert-dir", "/c",
                    "docker://a/b:1"]


@pytest.mark.parametrize("content, message", [
    (None, "cannot read it"),
    ("{not json", "not valid JSON"),
    ('{"something": 1}', 'no "auths" object'),
    ('{"auths": []}', 'no "auths" object'),
])
def test_bad_authfile_is_refused_without_echoing_it(tmp_path, content, message):
    path = tmp_path / "auth.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SkomirrorError, match=message) as caught:
        check_authfile(path)
    assert content is None or content not in str(caught.value)


def test_good_authfile_passes(tmp_path):
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"auths": {"reg:5000": {"auth": "dTpw"}}}))
    check_authfile(path)


def test_skopeo_runs_with_gogc_400_unless_the_user_set_it(monkeypatch, tmp_path):
    """A real child (a shell standing in for skopeo) sees the environment the runner gives it."""
    from skomirror.skopeo.command import Capabilities, CopySettings, Skopeo
    from skomirror.skopeo.processes import ChildProcesses
    from skomirror.skopeo.retry import RetryPolicy
    from skomirror.skopeo.runner import SkopeoRunner

    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.setenv("SKOMIRROR_TEST_MARK", "kept")
    shell = Skopeo("/bin/sh", Capabilities((1, 9, 3), frozenset()))
    runner = SkopeoRunner(shell, ChildProcesses(), CopySettings(), RetryPolicy(retry_times=1, delay=0.001))
    completed = runner.run(["-c", "echo $GOGC $SKOMIRROR_TEST_MARK"], tmp_path / "log", "env", capture_stdout=True)
    assert completed.stdout == b"400 kept\n"
    monkeypatch.setenv("GOGC", "50")
    assert Skopeo("/bin/sh", Capabilities((1, 9, 3), frozenset())).environment["GOGC"] == "50"


def test_each_skopeo_gets_its_share_of_the_cores_unless_the_user_set_gomaxprocs(monkeypatch, tmp_path):
    from skomirror.engine import CopyEngine
    from skomirror.progress import Progress
    from skomirror.skopeo.processes import ChildProcesses
    from skomirror.skopeo.retry import RetryPolicy
    from skomirror.skopeo.runner import SkopeoRunner
    from skomirror.workspace import Workspace

    monkeypatch.delenv("GOMAXPROCS", raising=False)
    monkeypatch.setattr(command.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert [command.go_threads(n) for n in (1, 2, 3, 8, 12)] == ["8", "4", "2", "1", "1"]

    def engine_skopeo(parallel_images):
        shell = Skopeo("/bin/sh", Capabilities((1, 9, 3), frozenset()))
        runner = SkopeoRunner(shell, ChildProcesses(), CopySettings(), RetryPolicy(retry_times=1, delay=0.001))
        CopyEngine(Workspace(tmp_path / "ws"), Progress(), runner, parallel_images)
        return runner

    runner = engine_skopeo(4)  # what a copy's child sees
    completed = runner.run(["-c", "echo $GOMAXPROCS"], tmp_path / "log", "env", capture_stdout=True)
    assert completed.stdout == b"2\n"
    monkeypatch.setenv("GOMAXPROCS", "6")
    assert engine_skopeo(4).skopeo.environment["GOMAXPROCS"] == "6"


def test_a_skopeo_that_does_not_run_is_named_with_what_it_said(tmp_path):
    broken = tmp_path / "skopeo"
    broken.write_text("#!/bin/sh\necho 'cannot load libgpgme.so.11' >&2\nexit 127\n")
    broken.chmod(0o755)
    with pytest.raises(SkomirrorError, match=f"^{broken} does not run: cannot load libgpgme.so.11$"):
        Skopeo.probe(str(broken))


@pytest.mark.parametrize("policy, expected", [
    (SignaturePolicy(), ["--insecure-policy"]),
    (SignaturePolicy(True), []),
    (SignaturePolicy(True, Path("/etc/mirror/policy.json")), ["--policy", "/etc/mirror/policy.json"]),
])
def test_the_signature_policy_is_in_every_command(policy, expected):
    skopeo = Skopeo(FAKE_SKOPEO, Capabilities((1, 9, 3), parse_flags(help_text("1.9.3"))), policy=policy)
    settings = CopySettings(RegistryAccess(), RegistryAccess())
    for args in (skopeo.copy_args("docker://a/b:1", "docker://c/b:1", settings, Path("/d")),
                 skopeo.inspect_raw_args("docker://a/b:1", RegistryAccess(), None),
                 skopeo.delete_args("docker://a/b@sha256:0", RegistryAccess(), None)):
        head = args[:args.index(next(word for word in args if word in ("copy", "inspect", "delete")))]
        assert head == expected


def test_secure_policy_without_a_policy_file_is_refused_before_skopeo_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(command, "user_policy", lambda: tmp_path / "user.json")
    monkeypatch.setattr(command, "SYSTEM_POLICY", tmp_path / "system.json")
    with pytest.raises(SkomirrorError, match=r"--secure-policy: no signature policy at .*user.json or "
                                             r".*system.json; write one \(man containers-policy.json\)"):
        Skopeo.locate("true", policy=SignaturePolicy(True))
    with pytest.raises(SkomirrorError, match=r"--policy .*given.json: no such file"):
        Skopeo.locate("true", policy=SignaturePolicy(True, tmp_path / "given.json"))
    (tmp_path / "system.json").write_text('{"default": [{"type": "reject"}]}')
    SignaturePolicy(True).check()  # one of the two is enough, as for skopeo
    SignaturePolicy().check()  # no policy read, none needed
