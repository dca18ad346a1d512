"""Mirror to disk: from the registries into DEST/store, then a shipment of archives in DEST."""

from pathlib import Path
from typing import List, Optional

from skomirror.airgap.shipments import History
from skomirror.airgap.shipping import check_space_for_disk_run, ship
from skomirror.config.model import ImageSetConfiguration
from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.endpoints.store import StoreEndpoint
from skomirror.locking import Place
from skomirror.naming import DiskDestination
from skomirror.records import ImageRecord
from skomirror.store import Store
from skomirror.workflows.base import RegistrySide, Say, Workflow
from skomirror.workflows.options import RunOptions
from skomirror.workspace import Workspace


class MirrorToDisk(Workflow):
    mode = "mirror to disk"

    def __init__(self, options: RunOptions, workspace: Workspace, destination: DiskDestination):
        super().__init__(options, workspace, destination)
        self.archive_dir: Path = destination.path
        self.store = Store(destination.path / "store")

    @property
    def source(self) -> Endpoint:
        return RegistryEndpoint()

    @property
    def target(self) -> Endpoint:
        return StoreEndpoint(self.store)

    @property
    def store_written(self) -> Optional[Store]:
        return self.store

    @property
    def release_store(self) -> Store:
        return self.store  # payloads and the graph image travel in the shipment

    @property
    def history(self) -> History:
        return History(self.workspace.history)

    def places_to_lock(self) -> List[Place]:
        """Two runs into one directory would each ship parts the other's manifest does not describe."""
        archive_dir = self.archive_dir.absolute()
        return super().places_to_lock() + [Place(archive_dir, f"DEST file://{archive_dir}",
                                                  "write into another directory")]

    def registry_sides(self) -> List[RegistrySide]:
        return [self.source_side()]

    def check_before_copy(self, records: List[ImageRecord]) -> None:
        check_space_for_disk_run(records, self.store, self.history, self.options.since, self.options.full_archive,
                                 self.archive_dir)

    def prepare_to_write(self) -> None:
        self.store.prepare().remove_partial_writes()

    def part_limit(self, config: Optional[ImageSetConfiguration]) -> Optional[int]:
        """--archive-size, else the ISC's archiveSize (GiB), else one part."""
        archive_size = config.archive_size if config else None
        return self.options.archive_size or ((archive_size or 0) * 1024 ** 3 or None)

    def deliver(self, records: List[ImageRecord], config: Optional[ImageSetConfiguration], say: Say,
                warn: Say) -> None:
        ship(records, self.store, self.archive_dir, self.history, self.config_path, self.part_limit(config),
             self.options.since, self.options.full_archive, self.options.keep_going, say)
