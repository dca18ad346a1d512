"""One image of the plan: where it comes from, where it goes, and why it is there.

Its own module so that the plan, the endpoints and the survey can all name it
without importing one another.
"""

from dataclasses import dataclass, field
from typing import Optional, Tuple

from skomirror.collectors.types import ImageKind
from skomirror.config.model import Where
from skomirror.imageref import DOCKER_TRANSPORT, ImageRef
from skomirror.naming import MirrorName
from skomirror.store import Store


@dataclass(frozen=True)
class PlannedImage:
    source: ImageRef  # the upstream image; pulled by digest when it has one
    name: MirrorName  # oc-mirror's name relative to DEST; always a tag
    source_spec: str  # what skopeo copies from: docker://... or oci:...
    destination_spec: str  # what skopeo copies to
    destination_repository: str  # copies into one repository are kept apart (see scheduler)
    origin: str
    kind: ImageKind
    where: Where
    source_store: Optional[Store] = field(default=None, compare=False)  # the store the source is read from
    requires: Tuple[str, ...] = ()
    signs: Optional[str] = None  # a cosign signature: the digest it signs (see skomirror.signatures)
    platforms: Tuple[str, ...] = ()  # only these platforms of a multi-arch image (see skomirror.platforms)

    @property
    def destination(self) -> str:
        """For people: the destination without `docker://`."""
        return self.destination_spec[len(DOCKER_TRANSPORT):] if self.destination_spec.startswith(
            DOCKER_TRANSPORT) else self.destination_spec

    @property
    def mapping_line(self) -> str:
        """oc-mirror's mapping.txt format: `docker://SRC=docker://DEST`."""
        return f"{self.source_spec}={self.destination_spec}"
