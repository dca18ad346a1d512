"""Mirror to mirror: from each image's registry straight into DEST's."""

from typing import List

from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.workflows.base import RegistrySide
from skomirror.workflows.registry_target import IntoRegistry


class MirrorToMirror(IntoRegistry):
    mode = "mirror to mirror"

    @property
    def source(self) -> Endpoint:
        return RegistryEndpoint()

    def registry_sides(self) -> List[RegistrySide]:
        return [self.source_side(), self.destination_side()]
