"""Bad input: one line naming the problem and where it is, exit code 1, nothing copied."""

import os
import re
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import skomirror, write_isc

HEAD = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\n"


def python_only_path(tmp_path: Path) -> str:
    """A PATH with python but without skopeo."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    return str(bin_dir)


CASES = {
    "unknown key": (HEAD + "mirror:\n  additionalImage: []\n", "DEST",
                    r"isc.yaml:4: mirror.additionalImage: unknown key 'additionalImage'; did you mean"),
    "malformed yaml": (HEAD + "mirror:\n  additionalImages: [\n", "DEST", r"isc.yaml:5:1: malformed YAML"),
    "no tag": (HEAD + "mirror:\n  additionalImages:\n  - name: SRC/a/b\n", "DEST",
               r"isc.yaml:5: mirror.additionalImages\[0\].name: '127.0.0.1:\d+/a/b' has no tag or digest"),
    "wrong apiVersion": ("kind: ImageSetConfiguration\napiVersion: v1\nmirror: {}\n", "DEST",
                         r"isc.yaml:2: apiVersion: unsupported apiVersion 'v1'"),
    "helm not supported yet": (HEAD + "mirror:\n  helm:\n    local:\n    - name: x\n      path: /x\n", "DEST",
                               r"isc.yaml:5: mirror.helm: helm charts: skomirror cannot mirror"),
    "no images": (HEAD + "mirror: {}\n", "DEST", r"isc.yaml: the ImageSetConfiguration selects no images"),
    "DEST without transport": (HEAD + "mirror:\n  additionalImages:\n  - name: SRC/a/b:1\n", "registry:5000/x",
                               r"DEST 'registry:5000/x' must start with docker:// .* or file://"),
    "missing --from directory": (HEAD + "mirror:\n  additionalImages:\n  - name: SRC/a/b:1\n",
                                 "--from file:///nonexistent/usb DEST",
                                 r"--from file:///nonexistent/usb: no such directory"),
    "--from into file://": ("", "--from file:///tmp file:///tmp/m", r"--from pushes archives into a registry: DEST "
                                                                     r"must be docker://"),
    "unreachable destination": (HEAD + "mirror:\n  additionalImages:\n  - name: SRC/a/b:1\n",
                                "docker://127.0.0.1:9/mirror",
                                r"cannot use the destination docker://127.0.0.1:9/mirror: connection refused"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_line_and_exit_1(tmp_path, destination, name):
    text, dest, pattern = CASES[name]
    *options, dest = dest.replace("DEST", f"docker://{destination.host}").split()
    (tmp_path / "isc.yaml").write_text(text.replace("SRC", destination.host))
    result = skomirror(*options, "isc.yaml", dest, "--retry-delay", "0.01", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("skomirror: error:")]
    assert len(errors) == 1, result.stderr
    assert re.search(pattern, errors[0]), errors[0]
    assert "Traceback" not in result.stderr
    assert destination.catalog() == []


def test_missing_skopeo(tmp_path, source, destination):
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/a/b:1"])
    result = skomirror(str(isc), f"docker://{destination.host}", cwd=tmp_path,
                       env={"PATH": python_only_path(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "skomirror: error: skopeo not found on PATH; install it: dnf install -y skopeo (RHEL, Fedora) or "
        "apt-get install -y skopeo (Debian, Ubuntu)")


def test_usage_error_is_one_line_with_exit_1(tmp_path):
    result = skomirror("--parallel-images", "0", "isc.yaml", "docker://r:5000", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("skomirror: error: Invalid value for '--parallel-images'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_workspace(tmp_path, source, destination):
    if os.geteuid() == 0:
        workspace = "/proc/skomirror-workspace"  # even root cannot create directories in /proc
    else:
        workspace = str(tmp_path / "ro" / "ws")
        (tmp_path / "ro").mkdir(mode=0o500)
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/a/b:1"])
    result = skomirror(str(isc), f"docker://{destination.host}", "--workspace", workspace, cwd=tmp_path)
    assert result.returncode == 1
    assert f"skomirror: error: workspace {workspace} is not writable" in result.stderr
