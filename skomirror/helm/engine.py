"""The one interface of a Helm engine, and what both engines share.

Both embed Helm's real template engine (skomirror.helm.choose picks one).
Both get the chart as an archive and one values mapping (merged here, as
`helm -f a -f b` merges them), render it as `helm template release-name
--include-crds` does, and return the manifests without NOTES.txt.
"""

from pathlib import Path
from typing import Dict, List, Protocol

RELEASE_NAME = "release-name"  # what `helm template` calls a release when none is named
NAMESPACE = "default"


class HelmEngineError(Exception):
    """The engine refused a chart (a template error, a missing required value): one line, Helm's words."""


class HelmEngine(Protocol):
    description: str  # for people: which engine, which Helm

    def render(self, archive: Path, values: Dict[str, object], work: Path) -> List[str]:
        """The chart's manifests (CRDs first), rendered with `values` over its defaults."""

    def package(self, directory: Path, destination: Path) -> Path:
        """A chart directory packed into `destination` as Helm packs it (.helmignore honoured)."""


def merge_values(base: Dict[str, object], override: Dict[str, object]) -> Dict[str, object]:
    """Helm's merge of values files given in order: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)  # type: ignore[arg-type]
        else:
            merged[key] = value
    return merged


def one_line(text: str) -> str:
    """Helm's multi-line errors as one line."""
    return " ".join(part.strip() for part in str(text).strip().splitlines() if part.strip())
