"""helm-python-sdk as the engine: Helm's Go SDK (v4) in a native library, called in process.

An optional extra (`pip install 'skomirror[helm]'`): it needs Python >= 3.10
and brings an 85 MB library, so the core never imports it. A chart handle is
changed by rendering (Helm drops the subcharts a condition disables), so each
render loads the archive afresh.
"""

from pathlib import Path
from typing import Dict, List, Optional

from skomirror.helm.engine import NAMESPACE, RELEASE_NAME, HelmEngineError, one_line


class HelmSdk:
    def __init__(self, module):
        self.helm = module
        self.description = f"helm-python-sdk (Helm {module.helm_sdk_version()})"

    @classmethod
    def load(cls) -> Optional["HelmSdk"]:
        try:
            import helm_python
        except (ImportError, OSError):  # not installed, or its library does not load on this machine
            return None
        return cls(helm_python)

    def render(self, archive: Path, values: Dict[str, object], work: Path) -> List[str]:
        try:
            with self.helm.Chart.load(str(archive)) as chart:
                rendered = chart.render(values, name=RELEASE_NAME, namespace=NAMESPACE)
                crds = [f"# Source: {crd['filename']}\n{crd['data']}" for crd in chart.crds]
        except self.helm.HelmError as exc:
            raise HelmEngineError(one_line(exc)) from None
        templates = [f"# Source: {name}\n{text}" for name, text in sorted(rendered.items())
                     if not name.endswith(".txt") and text.strip()]
        return crds + templates

    def package(self, directory: Path, destination: Path) -> Path:
        destination.mkdir(parents=True, exist_ok=True)
        try:
            return Path(self.helm.package(str(directory), destination=str(destination)))
        except self.helm.HelmError as exc:
            raise HelmEngineError(one_line(exc)) from None
