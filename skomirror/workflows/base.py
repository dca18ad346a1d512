"""What every workflow answers; `skomirror.run` drives the same stages for all of them.

A workflow owns what differs between mirror to mirror, mirror to disk and disk
to mirror: its endpoints, the store it writes into or reads from (known when it
is built), where the images come from, what it checks before writing, and what
it leaves behind. Nothing outside a workflow asks which one it is.
"""

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable, List, Optional, Tuple, Union

from skomirror.collectors.types import CollectedImage
from skomirror.config.model import ImageSetConfiguration
from skomirror.endpoints.contract import Endpoint
from skomirror.locking import Place
from skomirror.naming import DiskDestination, RegistryDestination
from skomirror.progress import Progress
from skomirror.records import ImageRecord
from skomirror.skopeo.command import RegistryAccess
from skomirror.store import Store
from skomirror.workflows.options import RunOptions
from skomirror.workspace import Workspace

Say = Callable[[str], None]
RegistrySide = Tuple[str, RegistryAccess, str]  # name, access, the flag that sets it


class Workflow(ABC):
    mode: str = ""  # for people and results.json
    writes_cluster_resources = False  # what `skomirror merge` writes again for the shards of a run

    @property
    def shipments_dir(self) -> Optional[Path]:
        """Where this run's shipments are written, if it writes any."""
        return None

    def __init__(self, options: RunOptions, workspace: Workspace,
                 destination: Union[RegistryDestination, DiskDestination]):
        self.options = options
        self.workspace = workspace
        self.destination = destination
        self.config_path: Optional[Path] = options.config  # the ISC the images come from

    @property
    @abstractmethod
    def source(self) -> Endpoint:
        """Where the plan's images are copied from."""

    @property
    @abstractmethod
    def target(self) -> Endpoint:
        """Where they are copied to."""

    @property
    def store_written(self) -> Optional[Store]:
        """The store the copies write into, whose blobs they share; None when they write to a registry."""
        return None

    @property
    def release_store(self) -> Store:
        """Where payloads are read and the graph image built."""
        return Store(self.workspace.root / "release-images")

    def places_to_lock(self) -> List[Place]:
        """The directories this run writes into, one run at a time each; a dry run too (its mapping, logs, journal
        and pulled catalogs and payloads are written there)."""
        root = self.workspace.root
        return [Place(root, f"workspace {root}", "give another --workspace")]

    @abstractmethod
    def registry_sides(self) -> List[RegistrySide]:
        """The registries this workflow talks to (the store has no TLS to speak of)."""

    def images(self, from_config: Callable[[], List[CollectedImage]], progress: Progress,
               warn: Say) -> List[CollectedImage]:
        """What is to be mirrored: by default, what the collectors find in the ISC."""
        return from_config()

    def check_before_copy(self, records: List[ImageRecord]) -> None:
        """After the survey, before any byte is written (a dry run stops after this)."""

    def prepare_to_write(self) -> None:
        """Just before the copies start."""

    @abstractmethod
    def deliver(self, records: List[ImageRecord], config: Optional[ImageSetConfiguration], say: Say,
                warn: Say) -> None:
        """What the run leaves behind once the copies are done."""

    def tls_warnings(self) -> List[str]:
        """One warning per registry side whose TLS verification is off."""
        return [f"TLS verification is off for the {side} ({flag}): its identity is not checked"
                for side, access, flag in self.registry_sides() if not access.tls_verify]

    def source_side(self) -> RegistrySide:
        return "source", self.options.source_access, "--src-tls-verify=false"

    def destination_side(self) -> RegistrySide:
        return "destination", self.options.destination_access, "--dest-tls-verify=false"
