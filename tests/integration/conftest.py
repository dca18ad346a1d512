"""Real skopeo against real docker-registry instances on 127.0.0.1."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

from testkit.isc import write_isc  # noqa: F401  (the tests import it from here)
from testkit.registry import Registry, find_registry_binary

PROJECT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.integration)
    # the outage tests wait 90 and 45 s: first, so that the other test process works beside them, not after
    items.sort(key=lambda item: item.path != here / "test_outages.py")


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


def _command(args, insecure: bool) -> List[str]:
    tls = ["--src-tls-verify=false", "--dest-tls-verify=false"] if insecure else []
    return [sys.executable, "-m", "skomirror", "run", *tls, *args]


def skomirror(*args: str, cwd: Path, env: Optional[dict] = None, timeout: float = 300,
              insecure: bool = True) -> subprocess.CompletedProcess:
    """Run the real CLI in a child Python, as a user would (real exit codes, no TTY)."""
    full_env = dict(os.environ, PYTHONPATH=str(PROJECT), **(env or {}))
    return subprocess.run(_command(args, insecure), cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def skomirror_command(*args: str, cwd: Path, env: Optional[dict] = None,
                      timeout: float = 300) -> subprocess.CompletedProcess:
    """Any skomirror command (list, describe, ...) in a child Python, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "skomirror", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(PROJECT), **(env or {})), timeout=timeout)


def finished_copies(workspace: Path) -> int:
    """Images whose copy has completed, read from the per-image logs of a running skomirror."""
    return sum(bool(re.search(r"copy attempt \d+: .*\n(?:.*\n)*?=== exit 0", log.read_text()))
               for log in workspace.rglob("*.log"))


def interrupted_skomirror(*args: str, cwd: Path, workspace: Path, signum: int = signal.SIGINT,
                          after_copies: int = 0, freeze: Optional[Callable[[], None]] = None):
    """Start the CLI, send `signum` once a copy is under way (and `after_copies` have finished).

    freeze: called as soon as that is so (a WanProxy's hold, say), so that a loaded machine cannot
    let the run finish before the signal arrives. Returns (returncode, stdout, stderr).
    """
    process = subprocess.Popen(_command(args, True), cwd=cwd, env=dict(os.environ, PYTHONPATH=str(PROJECT)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: skopeo_processes_mentioning(str(workspace)) and
                 any("copy attempt" in log.read_text() for log in workspace.rglob("*.log")) and
                 finished_copies(workspace) >= after_copies, 60, "copies to start")
        if freeze is not None:
            freeze()
        time.sleep(0.5)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stdout, stderr


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


def skopeo_processes_mentioning(text: str):
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes()
        except OSError:
            continue
        if argv.startswith(b"/usr/bin/skopeo") or b"skopeo\0" in argv[:64]:
            if text.encode() in argv:
                found.append(argv.replace(b"\0", b" ").decode(errors="replace"))
    return found


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
