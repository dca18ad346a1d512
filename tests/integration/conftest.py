"""Real skopeo against real docker-registry instances on 127.0.0.1."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import pytest

from skomirror.testkit.registry import Registry, find_registry_binary

PROJECT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent) if hasattr(Path, "is_relative_to") \
                else str(item.fspath).startswith(str(Path(__file__).parent)):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def real_tools():
    """These tests need the real thing; scripts/test.sh installs both."""
    assert shutil.which("skopeo"), "skopeo is not installed: run scripts/test.sh, or apt-get install -y skopeo"
    find_registry_binary()


@pytest.fixture
def registries(tmp_path):
    """start(name, **kwargs) -> a running Registry; all are stopped after the test."""
    started: List[Registry] = []

    def start(name: str, **kwargs) -> Registry:
        registry = Registry(tmp_path / name, **kwargs).start()
        started.append(registry)
        return registry

    yield start
    for registry in started:
        registry.stop()


@pytest.fixture
def source(registries) -> Registry:
    return registries("source")


@pytest.fixture
def destination(registries) -> Registry:
    return registries("destination")


def write_isc(path: Path, images: Sequence[Union[str, Dict[str, str]]], blocked: Sequence[str] = (),
              api_version: str = "mirror.openshift.io/v2alpha1") -> Path:
    lines = ["kind: ImageSetConfiguration", f"apiVersion: {api_version}", "mirror:", "  additionalImages:"]
    for image in images:
        entry = {"name": image} if isinstance(image, str) else image
        lines.append(f"  - name: {entry['name']}")
        lines += [f"    {key}: \"{value}\"" for key, value in entry.items() if key != "name"]
    if blocked:
        lines.append("  blockedImages:")
        lines += [f"  - name: '{pattern}'" for pattern in blocked]
    path.write_text("\n".join(lines) + "\n")
    return path


def skomirror(*args: str, cwd: Path, env: Optional[dict] = None, timeout: float = 300,
              insecure: bool = True) -> subprocess.CompletedProcess:
    """Run the real CLI in a child Python, as a user would (real exit codes, no TTY)."""
    tls = ["--src-tls-verify=false", "--dest-tls-verify=false"] if insecure else []
    command = [sys.executable, "-m", "skomirror", "run", *tls, *args]
    full_env = dict(os.environ, PYTHONPATH=str(PROJECT), **(env or {}))
    return subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def skopeo_digest(reference: str, authfile: Optional[Path] = None) -> Optional[str]:
    """The digest of `docker://reference` as skopeo sees it, or None when absent."""
    command = ["skopeo", "inspect", "--raw", "--tls-verify=false"]
    if authfile:
        command += ["--authfile", str(authfile)]
    result = subprocess.run(command + [f"docker://{reference}"], capture_output=True)
    if result.returncode != 0:
        return None
    return "sha256:" + hashlib.sha256(result.stdout).hexdigest()


def results(workspace: Path) -> dict:
    return json.loads((workspace / "results.json").read_text())


def statuses(workspace: Path) -> Dict[str, str]:
    return {image["destination"]: image["status"] for image in results(workspace)["images"]}
