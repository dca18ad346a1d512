"""Which Helm engine renders charts.

Two engines embed Helm's real template engine: the `helm` CLI (found on PATH,
as on most OpenShift bastions) and helm-python-sdk (Helm's Go SDK in a
native library, Python >= 3.10: `pip install 'skomirror[helm]'`). The CLI is
preferred when both are there: it is the Helm that will install the chart,
maintained by the Helm project, and it runs in a process of its own, where
the SDK is an alpha release loaded into skomirror's. SKOMIRROR_HELM_ENGINE=cli
or =sdk chooses one.
"""

import os
import shutil
from typing import Optional

from skomirror.errors import SkomirrorError
from skomirror.helm.cli_engine import HelmCli
from skomirror.helm.engine import HelmEngine
from skomirror.helm.sdk_engine import HelmSdk

ENGINE_VARIABLE = "SKOMIRROR_HELM_ENGINE"
INSTALL_HINT = ("put the helm CLI on PATH (https://helm.sh/docs/intro/install/), or install the Helm SDK: "
                "pip install 'skomirror[helm]' (helm-python-sdk, Python >= 3.10)")


def find_engine(choice: Optional[str] = None) -> HelmEngine:
    """The helm CLI when it is on PATH, else the SDK when installed; else one line saying what to install."""
    choice = (choice if choice is not None else os.environ.get(ENGINE_VARIABLE, "")).strip().lower()
    if choice not in ("", "cli", "sdk"):
        raise SkomirrorError(f"{ENGINE_VARIABLE}={choice!r}: expected cli or sdk (or leave it unset)")
    binary = shutil.which("helm")
    if choice in ("", "cli") and binary:
        return HelmCli.probe(binary)
    if choice in ("", "sdk"):
        engine = HelmSdk.load()
        if engine is not None:
            return engine
    wanted = {"cli": "the helm CLI is not on PATH", "sdk": "helm-python-sdk is not installed"}.get(
        choice, "no Helm engine is installed")
    raise SkomirrorError(f"helm charts need Helm's template engine, and {wanted}: {INSTALL_HINT}")
