"""Mirror to disk: from the registries into DEST/store, then a shipment of archives in DEST.

What was shipped is kept in DEST/history, with the store it was shipped from:
a run from any working directory ships only what no earlier shipment carried.
"""

from pathlib import Path
from typing import Callable, List, Optional

from skomirror.airgap.history import History
from skomirror.airgap.shipping import check_space_for_disk_run, ship
from skomirror.collectors.types import CollectedImage
from skomirror.config.model import ImageSetConfiguration
from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.endpoints.store import StoreEndpoint
from skomirror.locking import Place
from skomirror.naming import DiskDestination
from skomirror.records import ImageRecord
from skomirror.store import Store
from skomirror.progress import Progress
from skomirror.workflows.base import RegistrySide, Say, Workflow
from skomirror.workflows.options import RunOptions
from skomirror.workspace import Workspace


class MirrorToDisk(Workflow):
    mode = "mirror to disk"

    def __init__(self, options: RunOptions, workspace: Workspace, destination: DiskDestination):
        super().__init__(options, workspace, destination)
        self.archive_dir: Path = destination.path
        self.store = Store(destination.path / "store")
        self.history = self._history()

    @property
    def shipments_dir(self) -> Optional[Path]:
        return self.archive_dir.absolute()

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

    def _history(self, warn: Optional[Say] = None) -> History:
        """DEST/history; what an earlier skomirror kept in the workspace is read until then."""
        return History(self.archive_dir, warn, legacy=self.workspace.history, store=self.store)

    def images(self, from_config: Callable[[], List[CollectedImage]], progress: Progress,
               warn: Say) -> List[CollectedImage]:
        self.history = self._history(warn)
        return from_config()

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
        shard = self.options.shard
        ship(records, self.store, self.archive_dir, self.history, self.config_path, self.part_limit(config),
             self.options.since, self.options.full_archive, self.options.keep_going, say,
             (shard.index, shard.count) if shard else (0, 1))
