import subprocess
import sys
from pathlib import Path

import plumbum.machines.local  # here, before fp patches subprocess: its import runs `uname -p`
import pytest

from skomirror.skopeo.command import Capabilities, Skopeo, parse_flags

DATA = Path(__file__).parent / "data"
FAKE_SKOPEO = "/opt/fake/skopeo"


def help_text(version: str) -> str:
    return (DATA / f"skopeo-{version}-copy-help.txt").read_text()


@pytest.fixture
def fake_process(fp, monkeypatch):
    """pytest-subprocess, also for plumbum, which imported subprocess.Popen before the patch."""
    # by sys.modules: plumbum.machines.local as an attribute is the LocalMachine, not the module
    monkeypatch.setattr(sys.modules["plumbum.machines.local"], "Popen", subprocess.Popen)
    return fp


@pytest.fixture
def old_skopeo() -> Skopeo:
    """Debian 12's skopeo 1.9.3, from its real `copy --help`."""
    return Skopeo(FAKE_SKOPEO, Capabilities((1, 9, 3), parse_flags(help_text("1.9.3"))))


@pytest.fixture
def new_skopeo() -> Skopeo:
    return Skopeo(FAKE_SKOPEO, Capabilities((1, 18, 0), parse_flags(help_text("1.18"))))


def planned(source: str, destination: str = "dst.example", kind=None, **targets):
    """One PlannedImage from source to a registry, named as the plan names it."""
    from skomirror.collectors.types import CollectedImage, ImageKind
    from skomirror.config.model import NOWHERE
    from skomirror.endpoints.registry import RegistryEndpoint
    from skomirror.imageref import ImageRef
    from skomirror.naming import parse_destination
    from skomirror.plan import make_plan

    item = CollectedImage(ImageRef.parse(source), source, kind or ImageKind.ADDITIONAL, NOWHERE, **targets)
    target = RegistryEndpoint(parse_destination(f"docker://{destination}"))
    (image,) = make_plan([item], RegistryEndpoint(), target).images
    return image
