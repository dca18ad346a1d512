"""The options of a run, as the command line gives them; every workflow reads the ones it needs."""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from skomirror.skopeo.command import RegistryAccess, SignaturePolicy
from skomirror.skopeo.retry import RetryPolicy

if TYPE_CHECKING:
    from skomirror.shards import Shard

# Measured in BENCHMARKS.md ("Choosing --parallel-images").
DEFAULT_PARALLEL_IMAGES = 16
DEFAULT_STALL_TIMEOUT = 300.0
DEFAULT_KEEP_LOGS = 5
# Where releases' extras come from unless told (--graph-data, --graph-base-image, --signature-url).
GRAPH_DATA_URL = "https://api.openshift.com/api/upgrades_info/graph-data"
GRAPH_BASE_IMAGE = "registry.access.redhat.com/ubi9/ubi:latest"
SIGNATURE_URL = "https://mirror.openshift.com/pub/openshift-v4/signatures/openshift/release"


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
    remove_signatures: bool = False  # cosign signatures (`sha256-<hex>.sig` tags) are not mirrored
    signature_policy: SignaturePolicy = field(default_factory=SignaturePolicy)  # --secure-policy, --policy
    skopeo_binary: str = "skopeo"
    shard: Optional["Shard"] = None  # run only this shard's share of the plan (skomirror.shards)
    keep_logs: int = DEFAULT_KEEP_LOGS  # the per-image logs of this many runs (this one counted) stay in the workspace
    config_kind: str = "ImageSetConfiguration"  # or DeleteImageSetConfiguration, for skomirror delete --generate
    delete_id: str = ""  # skomirror delete --generate --delete-id: names its files, as oc-mirror's
