"""--graph-base-image is checked while the command line is parsed: a one-line usage error, never a traceback."""

import pytest
from click.testing import CliRunner

from skomirror.cli import ImageType, cli, main

BAD = ["run", "--graph-base-image", "UBI9/ubi:latest", "isc.yaml", "file://out"]  # uppercase: invalid


def test_main_gives_one_line_usage_error_with_the_usage_exit_code(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(BAD)
    assert exited.value.code == 1  # skomirror's usage exit code (2 means a release failure here)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("skomirror: error: Invalid value for '--graph-base-image': invalid repository path "
                               "component 'UBI9'")
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "skomirror-workspace").exists()  # refused before the run began


def test_click_itself_refuses_it_at_parse_time_with_exit_2():
    result = CliRunner().invoke(cli, BAD)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: Invalid value for '--graph-base-image': invalid repository path component 'UBI9' "
                      "(lowercase letters, digits, and . _ - separators)"]
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_a_good_image_stays_the_text_the_user_wrote():
    assert ImageType().convert("registry.example:5000/ubi9/ubi:latest", None, None) == \
        "registry.example:5000/ubi9/ubi:latest"
    assert ImageType().convert("ubi9/ubi:latest", None, None) == "ubi9/ubi:latest"  # a short name, as oc-mirror
