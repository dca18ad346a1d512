"""oc-mirror v2's command lines, as its documentation writes them, make the same run as skomirror's own spelling.

Each row: an oc-mirror command line (`oc-mirror` or `oc mirror` replaced by `skomirror`) and skomirror's
spelling of the same run; both must build equal RunOptions (and console level). The refused flags each get
one line naming the flag and what to use instead.
"""

import json
import shlex
from pathlib import Path

import pytest

from skomirror import cli
from skomirror import run as run_module
from skomirror.delete import generate as delete_generate, removal as delete_removal
from skomirror import cli_compat
from skomirror.cli_compat import REFUSED, REFUSED_BY_DELETE, cobra_args, refusal
from skomirror.skopeo.command import SignaturePolicy
from skomirror.workflows.options import RunOptions

OC_MIRROR_ROWS = [
    # oc-mirror's own examples (internal/pkg/cli/executor.go, main branch) and the OpenShift documentation's
    # ("Mirroring images for a disconnected installation by using the oc-mirror plugin v2", its command reference)
    ("oc-mirror -c ./isc.yaml file:///home/user/oc-mirror/mirror1 --v2",
     "run ./isc.yaml file:///home/user/oc-mirror/mirror1"),
    ("oc-mirror -c ./isc.yaml --from file:///home/user/oc-mirror/mirror1 docker://localhost:6000 --v2",
     "run ./isc.yaml --from file:///home/user/oc-mirror/mirror1 docker://localhost:6000"),
    ("oc-mirror -c ./isc.yaml --workspace file:///home/user/oc-mirror/mirror1 docker://localhost:6000 --v2",
     "run ./isc.yaml --workspace /home/user/oc-mirror/mirror1 docker://localhost:6000"),
    ("oc mirror -c ./imageset-config.yaml --workspace file:///home/user/ws docker://mirror.example.com:5000 --v2 "
     "--dry-run", "run --dry-run ./imageset-config.yaml --workspace /home/user/ws docker://mirror.example.com:5000"),
    ("oc mirror --config=./imageset-config.yaml file:///data/mirror --since 2024-06-01 --v2",
     "run --since 2024-06-01 imageset-config.yaml file:///data/mirror"),
    ("oc mirror -c isc.yaml --from file:///data/mirror docker://mirror.example.com:5000/ocp --v2 "
     "--dest-tls-verify=false", "run --dest-tls-verify=false isc.yaml --from file:///data/mirror "
                                "docker://mirror.example.com:5000/ocp"),
    ("oc mirror -c isc.yaml --workspace file:///ws docker://reg:5000 --v2 --retry-times 5 --retry-delay 10s "
     "--image-timeout 30m --parallel-images 8 --parallel-layers 5 --log-level debug",
     "run isc.yaml --workspace /ws docker://reg:5000 --retry-times 5 --retry-delay 10 --stall-timeout 1800 "
     "--parallel-images 8 --parallel-layers 5 --log-level debug"),
    ("oc-mirror --v2 -c isc.yaml --cache-dir /data/cache file:///data/mirror",
     "run isc.yaml file:///data/mirror"),
    ("oc mirror -c ./isc.yaml file:///data/mirror --dry-run --v2", "run --dry-run isc.yaml file:///data/mirror"),
    ("oc mirror -c isc.yaml --workspace file:///ws docker://reg:5000 --v2 --authfile /run/auth.json "
     "--parallel-images 4 --parallel-layers 5 --image-timeout 10m0s --retry-times 2 --retry-delay 1m30s "
     "--log-level trace", "run isc.yaml docker://reg:5000 --workspace /ws --authfile /run/auth.json "
                          "--parallel-images 4 --parallel-layers 5 --stall-timeout 600 --retry-times 2 "
                          "--retry-delay 90 --log-level debug"),
    ("oc mirror -c isc.yaml file:///data/mirror --v2 --secure-policy --policy /etc/mirror/policy.json "
     "--ignore-release-signature", "run --secure-policy --policy /etc/mirror/policy.json isc.yaml file:///data/mirror"),
    ("oc mirror -c isc.yaml docker://reg:5000 --workspace file:///ws --v2 --remove-signatures=true --secure-policy "
     "--max-nested-paths 2 --authfile /run/auth.json --src-tls-verify=false",
     "run --remove-signatures --secure-policy --max-nested-paths 2 --authfile /run/auth.json "
     "--src-tls-verify=false --workspace /ws isc.yaml docker://reg:5000"),
    ("oc mirror -c isc.yaml --dest-tls-verify docker://reg:5000 --workspace file:///ws --v2 --log-level error",
     "run isc.yaml docker://reg:5000 --workspace /ws --log-level error"),
    ("oc mirror delete --config delete-isc.yaml --workspace file:///home/user/ws --v2 --generate "
     "docker://reg:5000/ns", "delete --generate -c delete-isc.yaml --workspace /home/user/ws docker://reg:5000/ns"),
    ("oc-mirror delete -c ./delete-isc.yaml --generate --workspace file:///home/user/oc-mirror/delete1 "
     "--delete-id delete1-test docker://localhost:6000 --v2",
     "delete --generate -c delete-isc.yaml --delete-id delete1-test --workspace /home/user/oc-mirror/delete1 "
     "docker://localhost:6000"),
    ("oc mirror delete --v2 --delete-yaml-file /home/user/ws/delete/delete-images.yaml docker://reg:5000/ns",
     "delete --delete-yaml-file /home/user/ws/delete/delete-images.yaml docker://reg:5000/ns"),
]


@pytest.fixture
def parsed(monkeypatch, tmp_path):
    """parsed(argv) -> (the RunOptions the command line builds, the console's level), nothing run."""
    monkeypatch.chdir(tmp_path)
    built = []

    def record(options, progress, warn):
        built.append((options, progress.level))
        return 0

    monkeypatch.setattr(run_module, "run", record)  # imported by the command when it runs (cli.py imports lazily)
    monkeypatch.setattr(delete_generate, "generate", record)
    monkeypatch.setattr(delete_removal, "remove_listed", lambda options, listing, progress, warn: record(options, progress,
                                                                                              warn))

    def parse(argv):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 0, argv
        return built.pop()

    return parse


def oc_mirror_argv(line: str):
    words = shlex.split(line)
    return words[2:] if words[:2] == ["oc", "mirror"] else words[1:]


@pytest.mark.parametrize("oc_mirror, own", OC_MIRROR_ROWS, ids=[row[0][:60] for row in OC_MIRROR_ROWS])
def test_an_oc_mirror_command_line_makes_the_same_run_as_skomirrors_spelling(parsed, oc_mirror, own):
    theirs, ours = parsed(oc_mirror_argv(oc_mirror)), parsed(shlex.split(own))
    assert isinstance(theirs[0], RunOptions)
    assert theirs == ours


def test_the_rows_say_what_they_should(parsed):
    options, level = parsed(oc_mirror_argv(OC_MIRROR_ROWS[6][0]))
    assert options.retry.delay == 10 and options.stall_timeout == 1800 and level == "debug"
    assert options.workspace == Path("/ws") and options.config == Path("isc.yaml")
    assert options.retry.retry_times == 5 and options.parallel_layers == 5
    options, _ = parsed(oc_mirror_argv(OC_MIRROR_ROWS[9][0]))
    assert options.stall_timeout == 600 and options.retry.delay == 90 and options.authfile == Path("/run/auth.json")
    options, _ = parsed(oc_mirror_argv(OC_MIRROR_ROWS[10][0]))
    assert options.signature_policy == SignaturePolicy(True, Path("/etc/mirror/policy.json"))
    assert not options.require_signatures
    options, _ = parsed(oc_mirror_argv(OC_MIRROR_ROWS[11][0]))
    assert options.remove_signatures and options.signature_policy == SignaturePolicy(True, None)
    assert not options.source_access.tls_verify
    options, _ = parsed(oc_mirror_argv(OC_MIRROR_ROWS[12][0]))  # a bare boolean takes no word after it
    assert options.destination == "docker://reg:5000" and options.destination_access.tls_verify
    options, _ = parsed(oc_mirror_argv(OC_MIRROR_ROWS[14][0]))
    assert options.delete_id == "delete1-test" and options.config_kind == "DeleteImageSetConfiguration"
    options, _ = parsed(oc_mirror_argv(OC_MIRROR_ROWS[1][0]))
    assert options.from_dir == "file:///home/user/oc-mirror/mirror1" and options.destination == "docker://localhost:6000"


def test_cache_dir_is_accepted_with_a_line_saying_it_is_not_used(parsed, capsys):
    parsed(["-c", "isc.yaml", "--cache-dir", "/data/cache", "file:///data/mirror", "--v2"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--cache-dir /data/cache is not used" in err


def test_v2_says_nothing(parsed, capsys):
    parsed(["--v2", "-c", "isc.yaml", "file:///data/mirror", "--v2"])
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv, message", [
    (["run", "-c", "a.yaml", "b.yaml", "docker://reg"], "with -c/--config a.yaml, give DEST alone"),
    (["run", "a.yaml", "docker://reg", "--image-timeout", "10m", "--stall-timeout", "5m"],
     "--image-timeout is oc-mirror's name for --stall-timeout: give one of them"),
    (["run", "a.yaml", "docker://reg", "--retry-delay", "10 s"], "is not a duration; write e.g. 90 (seconds)"),
    (["run", "a.yaml", "docker://reg", "--dry-run=maybe"], "'maybe' is not a boolean"),
    (["run", "a.yaml", "docker://reg", "--log-level", "verbose"], "'verbose' is not one of"),
    (["delete", "--delete-yaml-file", "x.yaml", "--delete-id", "a", "docker://reg"], "with --generate only"),
    (["run", "a.yaml", "docker://reg", "--policy", "p.json"], "--policy p.json is read only with --secure-policy"),
    (["run", "a.yaml", "docker://reg", "--ignore-release-signature", "--require-signatures"],
     "contradict each other"),
    (["-c", "a.yaml", "docker://reg", "--retry-delay", "10d"], "'10d' is not a duration"),
    (["list", "releases", "--channels=maybe"], "'maybe' is not a boolean; write --channels=true or --channels=false "
                                               "(see 'skomirror list releases --help')"),
    (["run", "a.yaml", "docker://reg", "--port", "5000"], "(see 'skomirror run --help')"),
])
def test_a_bad_command_line_is_one_line(monkeypatch, tmp_path, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 1 and err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("flag", sorted(REFUSED))
def test_every_refused_oc_mirror_flag_is_one_line_saying_what_to_use_instead(monkeypatch, tmp_path, capsys, flag):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        cli.main(["-c", "isc.yaml", "file:///data/mirror", "--v2", flag if flag.startswith("--") else flag + "1"])
    err = capsys.readouterr().err.splitlines()
    assert exited.value.code == 1 and len(err) == 1, err
    assert err[0].startswith(f"skomirror: error: {flag} is oc-mirror's, and skomirror does not support it: ")
    assert len(REFUSED[flag]) >= 20 and REFUSED[flag] in err[0]  # what to do instead
    assert not (tmp_path / "skomirror-workspace").exists()


@pytest.mark.parametrize("flag", ["--policy=p.json", "--secure-policy", "--parallel-layers=4"])
def test_run_flags_oc_mirror_delete_also_takes_are_refused_by_delete_saying_why(monkeypatch, tmp_path, capsys, flag):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        cli.main(["delete", "--generate", "-c", "d.yaml", "docker://reg", flag])
    err = capsys.readouterr().err.splitlines()
    name = flag.split("=")[0]
    assert exited.value.code == 1 and len(err) == 1 and REFUSED_BY_DELETE[name] in err[0], err
    assert not (tmp_path / "skomirror-workspace").exists()


def test_a_refused_flag_with_a_value_and_after_the_dashes():
    assert refusal("--port=55001").startswith("--port is oc-mirror's")
    assert refusal("-p55001").startswith("-p is oc-mirror's")
    assert refusal("--portable") is None and refusal("docker://reg") is None and refusal("-") is None
    assert cobra_args(cli.run_command, ["--", "--port"]) == ["--", "--port"]  # after --, a word is a word


def test_booleans_read_as_pflag_reads_them():
    argv = ["--dry-run=true", "--keep-going=false", "--remove-signatures", "--src-tls-verify=false",
            "--dest-tls-verify", "docker://reg", "--secure-policy=1"]
    assert cobra_args(cli.run_command, argv) == ["--dry-run", "--remove-signatures", "--src-tls-verify=false",
                                                 "--dest-tls-verify=true", "docker://reg", "--secure-policy"]


def test_version_three_ways(monkeypatch, capsys):
    for argv in (["-v"], ["--version"], ["run", "-v"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        assert capsys.readouterr().out.startswith("skomirror, version ")
    with pytest.raises(SystemExit):
        cli.main(["version", "--output", "json", "--v2"])
    versions = json.loads(capsys.readouterr().out)
    assert set(versions) == {"skomirror", "python", "skopeo"}
    with pytest.raises(SystemExit):
        cli.main(["version", "--short"])
    assert capsys.readouterr().out.strip() == versions["skomirror"]


@pytest.mark.parametrize("argv", [[], ["--v2"]])
def test_nothing_to_do_prints_the_help_not_an_error(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 0 and out.startswith("Usage: skomirror") and "error" not in err, (out, err)


def test_every_command_reads_booleans_as_pflag_does():
    """list, describe and merge too: `--channels=true` and `--src-tls-verify false`'s cobra reading hold everywhere."""
    from skomirror.commands import describe, list_operators, list_releases, merge
    assert cobra_args(list_releases.command, ["--channels=true", "--version", "4.16"]) == \
        ["--channels", "--version", "4.16"]
    assert cobra_args(list_operators.command, ["--src-tls-verify", "--catalog", "c"]) == \
        ["--src-tls-verify=true", "--catalog", "c"]
    for command in (describe.command, list_operators.command, list_releases.command, merge.merge_command):
        assert isinstance(command, cli_compat.OcMirrorCommand), command.name
