import importlib
import subprocess
from pathlib import Path

import pytest

from skomirror.skopeo import Capabilities, Skopeo, parse_flags

DATA = Path(__file__).parent / "data"
FAKE_SKOPEO = "/opt/fake/skopeo"


def help_text(version: str) -> str:
    return (DATA / f"skopeo-{version}-copy-help.txt").read_text()


@pytest.fixture
def fake_process(fp, monkeypatch):
    """pytest-subprocess, also for plumbum, which imported subprocess.Popen before the patch."""
    monkeypatch.setattr(importlib.import_module("plumbum.machines.local"), "Popen", subprocess.Popen)
    return fp


@pytest.fixture
def old_skopeo() -> Skopeo:
    """Debian 12's skopeo 1.9.3, from its real `copy --help`."""
    return Skopeo(FAKE_SKOPEO, Capabilities((1, 9, 3), parse_flags(help_text("1.9.3"))))


@pytest.fixture
def new_skopeo() -> Skopeo:
    return Skopeo(FAKE_SKOPEO, Capabilities((1, 18, 0), parse_flags(help_text("1.18"))))
