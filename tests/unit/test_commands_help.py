"""Every command besides `run` has --help naming its exit codes, and shows under `skomirror --help`."""

import pytest

from skomirror.cli import main


@pytest.mark.parametrize("command, says", [
    (["list", "releases"], "2 the update service does not know the"),
    (["list", "operators"], "4 the catalog cannot be pulled or read"),
    (["describe"], "1 a part is missing, truncated,"),
    (["delete"], "2/4/8/16"),
])
def test_help_exits_0_and_names_the_exit_codes(capsys, command, says):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert out.startswith(f"Usage: skomirror {' '.join(command)} [OPTIONS]") and "Exit codes: 0 " in out and says in out


def test_the_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()] == \
        ["delete", "describe", "list", "merge", "run", "version"]


def test_list_names_both_listings(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["list", "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "operators  List the packages of an operator catalog" in out and "releases   List the OpenShift" in out
