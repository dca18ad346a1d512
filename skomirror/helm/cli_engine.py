"""The `helm` CLI as the engine: `helm template` and `helm package`, in a process of their own.

Values go in a file in the run's work directory (owner-only, like the rest of
the workspace), never on the command line.
"""

import json
import subprocess
from pathlib import Path
from typing import Dict, List, Sequence

from skomirror.errors import SkomirrorError
from skomirror.helm.engine import NAMESPACE, RELEASE_NAME, HelmEngineError, one_line

TIMEOUT = 600.0  # seconds: rendering is local; a hung helm must not hang the run


def _error_text(completed: subprocess.CompletedProcess) -> str:
    text = (completed.stderr or completed.stdout or "").strip()
    return one_line(text[len("Error: "):] if text.startswith("Error: ") else text) or f"exit {completed.returncode}"


class HelmCli:
    def __init__(self, binary: str, version: str):
        self.binary = binary
        self.version = version
        self.description = f"helm CLI {version} ({binary})"

    @classmethod
    def probe(cls, binary: str) -> "HelmCli":
        try:
            completed = subprocess.run([binary, "version", "--short"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SkomirrorError(f"{binary} does not run: {exc}") from None
        if completed.returncode != 0:
            raise SkomirrorError(f"{binary} version --short failed: {_error_text(completed)}")
        return cls(binary, completed.stdout.strip().split("+")[0])

    def _run(self, args: Sequence[str]) -> str:
        try:
            completed = subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise HelmEngineError(f"helm {args[0]} did not finish in {TIMEOUT:.0f} s") from None
        except OSError as exc:
            raise HelmEngineError(f"{self.binary} does not run: {exc}") from None
        if completed.returncode != 0:
            raise HelmEngineError(f"helm {args[0]}: {_error_text(completed)}")
        return completed.stdout

    def render(self, archive: Path, values: Dict[str, object], work: Path) -> List[str]:
        work.mkdir(parents=True, exist_ok=True)
        values_file = work / "values.json"  # JSON is YAML: helm reads it as any values file
        values_file.write_text(json.dumps(values))
        return [self._run(["template", RELEASE_NAME, str(archive), "--namespace", NAMESPACE, "--include-crds",
                           "--values", str(values_file)])]

    def package(self, directory: Path, destination: Path) -> Path:
        destination.mkdir(parents=True, exist_ok=True)
        before = set(destination.glob("*.tgz"))
        self._run(["package", str(directory), "--destination", str(destination)])
        made = sorted(set(destination.glob("*.tgz")) - before) or sorted(destination.glob("*.tgz"))
        if not made:
            raise HelmEngineError(f"helm package {directory}: no chart archive was written")
        return made[-1]
