"""The images a rendered chart names, found where oc-mirror v2 looks for them.

oc-mirror reads every rendered manifest (CRDs included, NOTES.txt not) with
four JSONPaths, plus the chart's `imagePaths`, and splits what they find on
spaces. Since 4.20 a value that is not an image reference (an environment
variable holding a log level, say) is skipped; here it is skipped too, and
said, so that nothing is dropped without a word.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Sequence

import yaml

from skomirror.errors import InvalidReference
from skomirror.helm import jsonpath
from skomirror.imageref import ImageRef

DEFAULT_IMAGE_PATHS = (
    "{.spec.template.spec.initContainers[*].image}",
    "{.spec.template.spec.containers[*].image}",
    "{.spec.initContainers[*].image}",
    "{.spec.containers[*].image}",
)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestProblem(ValueError):
    """A rendered manifest that is not YAML: the chart is broken (Helm itself would refuse to install it)."""


@dataclass
class FoundImages:
    images: Dict[str, ImageRef] = field(default_factory=dict)  # as written in the manifest -> parsed, in order
    not_images: Dict[str, str] = field(default_factory=dict)  # values found that are not image references -> why


def documents(manifests: Sequence[str]) -> List[object]:
    """Every YAML document of the rendered manifests (empty ones dropped)."""
    found: List[object] = []
    for text in manifests:
        try:
            found += [document for document in yaml.load_all(text, Loader=_LOADER) if document is not None]
        except yaml.YAMLError as exc:
            source = next((line[len("# Source: "):] for line in text.splitlines() if line.startswith("# Source: ")),
                          "a rendered manifest")
            raise ManifestProblem(f"{source} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return found


def find_images(manifests: Sequence[str], image_paths: Sequence[str] = ()) -> FoundImages:
    paths = [jsonpath.parse(text) for text in (*DEFAULT_IMAGE_PATHS, *image_paths)]
    found = FoundImages()
    for document in documents(manifests):
        for path in paths:
            for value in path.find(document):
                for text in str(value).split() if isinstance(value, str) else [repr(value)]:
                    _add(found, text)
    return found


def _add(found: FoundImages, text: str) -> None:
    if text in found.images or text in found.not_images:
        return
    try:
        found.images[text] = ImageRef.parse(text)
    except InvalidReference as exc:
        found.not_images[text] = str(exc)
