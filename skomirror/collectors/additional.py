"""mirror.additionalImages: each entry is one image, named as written."""

from typing import List

from skomirror.collectors.types import CollectedImage, ImageKind, wanted_platforms
from skomirror.config.model import AdditionalImage
from skomirror.imageref import ImageRef


def collect(entries: List[AdditionalImage]) -> List[CollectedImage]:
    # The loader already validated every name, so parsing cannot fail here.
    return [
        CollectedImage(
            source=ImageRef.parse(entry.name),
            origin=entry.name,
            kind=ImageKind.ADDITIONAL,
            where=entry.where,
            target_repo=entry.target_repo,
            target_tag=entry.target_tag,
            platforms=wanted_platforms(entry.platforms),
        )
        for entry in entries
    ]
