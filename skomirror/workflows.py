"""The three workflows and the options of a run: which endpoints each uses, and what it refuses."""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import List, Optional, Tuple, Union

from skomirror.endpoints import RegistryEndpoint, StoreEndpoint
from skomirror.errors import SkomirrorError
from skomirror.naming import FILE_TRANSPORT, DiskDestination, RegistryDestination, parse_destination
from skomirror.release.graph_image import GRAPH_BASE_IMAGE, GRAPH_DATA_URL
from skomirror.release.signatures import SIGNATURE_URL
from skomirror.skopeo.retry import RetryPolicy
from skomirror.skopeo.command import RegistryAccess
from skomirror.store import Store

# Measured in BENCHMARKS.md ("Choosing --parallel-images").
DEFAULT_PARALLEL_IMAGES = 12
DEFAULT_STALL_TIMEOUT = 300.0
MIRROR_TO_MIRROR, MIRROR_TO_DISK, DISK_TO_MIRROR = "mirror to mirror", "mirror to disk", "disk to mirror"


@dataclass(frozen=True)
class RunOptions:
    config: Optional[Path]
    destination: str
    workspace: Path = Path("skomirror-workspace")
    from_dir: Optional[str] = None
    dry_run: bool = False
    parallel_images: int = DEFAULT_PARALLEL_IMAGES
    parallel_layers: Optional[int] = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stall_timeout: Optional[float] = DEFAULT_STALL_TIMEOUT  # seconds without byte progress; None: never
    max_nested_paths: int = 0
    authfile: Optional[Path] = None
    source_access: RegistryAccess = field(default_factory=RegistryAccess)
    destination_access: RegistryAccess = field(default_factory=RegistryAccess)
    archive_size: Optional[int] = None  # bytes per part; None: the ISC's archiveSize, else one part
    keep_going: bool = False
    rerun_failed: bool = False
    since: Optional[date] = None
    full_archive: bool = False
    update_url: Optional[str] = None  # None: OpenShift's public update service
    graph_data: str = GRAPH_DATA_URL
    graph_base_image: str = GRAPH_BASE_IMAGE
    signature_url: str = SIGNATURE_URL
    require_signatures: bool = False
    skopeo_binary: str = "skopeo"


@dataclass
class Workflow:
    mode: str
    destination: Union[RegistryDestination, DiskDestination]
    from_dir: Optional[Path] = None
    store: Optional[Store] = None  # mirror to disk: DEST/store; disk to mirror: the workspace's

    @property
    def archive_dir(self) -> Optional[Path]:
        return self.destination.path if self.mode == MIRROR_TO_DISK else None

    def endpoints(self, max_nested_paths: int) -> Tuple[object, object]:
        if self.mode == MIRROR_TO_DISK:
            return RegistryEndpoint(), StoreEndpoint(self.store)
        target = RegistryEndpoint(self.destination, max_nested_paths)
        if self.mode == DISK_TO_MIRROR:
            return StoreEndpoint(self.store), target
        return RegistryEndpoint(), target


def choose_workflow(options: RunOptions) -> Workflow:
    destination = parse_destination(options.destination)
    if options.from_dir is None:
        if options.config is None:
            raise SkomirrorError("CONFIG is missing: skomirror run CONFIG DEST (only --from can do without it)")
        if isinstance(destination, DiskDestination):
            return Workflow(MIRROR_TO_DISK, destination, store=Store(destination.path / "store"))
        return Workflow(MIRROR_TO_MIRROR, destination)
    if isinstance(destination, DiskDestination):
        raise SkomirrorError("--from pushes archives into a registry: DEST must be docker://, not file://")
    from_dir = options.from_dir[len(FILE_TRANSPORT):] if options.from_dir.startswith(FILE_TRANSPORT) \
        else options.from_dir
    if not Path(from_dir).is_dir():
        raise SkomirrorError(f"--from {options.from_dir}: no such directory")
    return Workflow(DISK_TO_MIRROR, destination, from_dir=Path(from_dir))


def tls_warnings(options: RunOptions, workflow: Workflow) -> List[str]:
    """One warning per registry side whose TLS verification is off (the store has no TLS to speak of)."""
    sides = []
    if workflow.mode != DISK_TO_MIRROR:
        sides.append(("source", options.source_access, "--src-tls-verify=false"))
    if workflow.mode != MIRROR_TO_DISK:
        sides.append(("destination", options.destination_access, "--dest-tls-verify=false"))
    return [f"TLS verification is off for the {side} ({flag}): its identity is not checked"
            for side, access, flag in sides if not access.tls_verify]
