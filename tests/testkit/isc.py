"""ImageSetConfiguration files for tests and benchmarks."""

from pathlib import Path
from typing import Dict, Sequence, Union


def write_isc(path: Path, images: Sequence[Union[str, Dict[str, str]]], blocked: Sequence[str] = (),
              api_version: str = "mirror.openshift.io/v2alpha1") -> Path:
    """An ISC listing `images` under additionalImages, and `blocked` patterns under blockedImages.

    An image is a full reference, or a dict with its `name` and further keys written as strings.
    """
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
