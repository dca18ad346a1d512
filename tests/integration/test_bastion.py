"""The bastion install: the single file and the offline wheelhouse, run by RHEL 9's Python (3.9)."""

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testkit.images import simple_image
from testkit.isc import write_isc
from tests.integration.conftest import PROJECT, skopeo_digest

WHEELHOUSE = PROJECT / "dist" / "wheelhouse"


def python39() -> str:
    """A 3.9 interpreter that runs: pyenv's (where these machines keep one), else python3.9 on PATH."""
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if shutil.which(
        "pyenv") else os.path.expanduser("~/.pyenv")
    candidates = sorted(glob.glob(f"{root}/versions/3.9*/bin/python3.9")) + [shutil.which("python3.9") or ""]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 9))"],
                               capture_output=True)
        if probe.returncode == 0:
            return candidate
    pytest.skip("no Python 3.9 here (neither in pyenv nor python3.9 on PATH): the 3.9 run is left to a machine "
                "that has one")


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    assert (WHEELHOUSE / "skomirror-0.1.0.tar.gz").exists(), \
        f"{WHEELHOUSE} is missing: scripts/test.sh builds it (scripts/build-wheelhouse.sh)"
    return WHEELHOUSE


def test_the_single_file_runs_a_mirror_under_python_3_9_with_nothing_else_installed(tmp_path, wheelhouse, source,
                                                                                     destination):
    pyz = tmp_path / "skomirror.pyz"
    subprocess.run([str(PROJECT / "scripts/build-zipapp.sh"), str(pyz)], check=True, capture_output=True,
                   env=dict(os.environ, WHEELHOUSE=str(wheelhouse)))
    python = [python39(), "-S", "-E", str(pyz)]  # -S: no site-packages, so every import comes from the file
    version = subprocess.run(python + ["--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "skomirror, version" in version.stdout, version.stderr
    assert "Usage: skomirror run" in subprocess.run(python + ["run", "--help"], capture_output=True,
                                                    text=True).stdout
    digests = {name: source.push(f"apps/{name}", "1", simple_image(name, (5_000,))) for name in ("a", "b", "c")}
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/{name}:1" for name in digests])
    run = subprocess.run(python + ["run", "--src-tls-verify=false", "--dest-tls-verify=false", str(isc),
                                   f"docker://{destination.host}/mirror", "--workspace", str(tmp_path / "ws")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    for name, digest in digests.items():
        assert skopeo_digest(f"{destination.host}/mirror/apps/{name}:1") == digest


@pytest.mark.parametrize("what", ["skomirror", "skomirror-0.1.0.tar.gz"])
def test_the_wheel_and_the_sdist_install_offline_from_the_wheelhouse(tmp_path, wheelhouse, what):
    subprocess.run([python39(), "-m", "venv", str(tmp_path / "venv")], check=True)
    target = what if what == "skomirror" else str(wheelhouse / what)
    install = subprocess.run([str(tmp_path / "venv/bin/pip"), "install", "--no-index", "--find-links",
                              str(wheelhouse), "--disable-pip-version-check", target],
                             capture_output=True, text=True, env=dict(os.environ, PIP_CONFIG_FILE=os.devnull))
    assert install.returncode == 0, install.stdout + install.stderr
    version = subprocess.run([str(tmp_path / "venv/bin/skomirror"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "0.1.0" in version.stdout
