"""Disk to mirror: receive the shipments in --from into the workspace's store, push them to DEST."""

from pathlib import Path
from typing import Callable, List, Optional

from skomirror.airgap.history import Received
from skomirror.airgap.receiving import Reception, receive_shipments, record_received, shipment_images
from skomirror.collectors.types import CollectedImage
from skomirror.config.model import ImageSetConfiguration
from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.store import StoreEndpoint
from skomirror.naming import RegistryDestination
from skomirror.records import ImageRecord
from skomirror.store import Store
from skomirror.progress import Progress
from skomirror.workflows.base import RegistrySide, Say
from skomirror.workflows.options import RunOptions
from skomirror.workflows.registry_target import IntoRegistry
from skomirror.workspace import Workspace


class DiskToMirror(IntoRegistry):
    """--from is only read (it may well be read-only media), so only the workspace is locked."""

    mode = "disk to mirror"

    def __init__(self, options: RunOptions, workspace: Workspace, destination: RegistryDestination,
                 from_dir: Path):
        super().__init__(options, workspace, destination)
        self.from_dir = from_dir
        self.store = Store(workspace.root / "store")
        self.received = Received(workspace.received, self.store)  # given the run's warnings in images()
        self.reception: Optional[Reception] = None

    @property
    def source(self) -> Endpoint:
        return StoreEndpoint(self.store)

    @property
    def release_store(self) -> Store:
        return self.store

    def registry_sides(self) -> List[RegistrySide]:
        return [self.destination_side()]

    def images(self, from_config: Callable[[], List[CollectedImage]], progress: Progress,
               warn: Say) -> List[CollectedImage]:
        """What the shipments carry; the ISC that made the newest one is the run's config from here on."""
        self.received = Received(self.workspace.received, self.store, warn)
        self.reception = receive_shipments(self.from_dir, self.store, self.received, progress)
        if self.options.config is not None:
            warn("with --from, what the shipments carry is pushed; CONFIG is only checked, not used")
        shipments = self.reception.shipments
        self.config_path = self.store.root / shipments[-1].isc
        images = shipment_images(shipments)
        return [image for image in images if not (self.options.remove_signatures and image.signs)]

    def deliver(self, records: List[ImageRecord], config: Optional[ImageSetConfiguration], say: Say,
                warn: Say) -> None:
        super().deliver(records, config, say, warn)
        if self.reception is not None:
            record_received(self.reception, records, self.received, say)
