"""`skomirror run`: config -> collectors -> plan -> survey -> copies -> outputs.

Three workflows share every stage; they differ only in their endpoints:
mirror to mirror (registry -> registry), mirror to disk (registry -> store,
then a shipment of archives) and disk to mirror (received shipments -> store
-> registry). What can be refused is refused before a copy starts: the
config, DEST, the auth file, skopeo itself, the archives, free disk space and
whether the destination answers.
"""

import contextlib
import signal
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, List, Optional, Union

from skomirror.collectors import collect
from skomirror.config import load_config
from skomirror.disk import check_space_for_disk_run, receive_shipments, write_shipment
from skomirror.endpoints import RegistryEndpoint, StoreEndpoint
from skomirror.errors import SkomirrorError
from skomirror.executor import FAILED, PENDING, SKIPPED, Executor, ImageRecord
from skomirror.failures import Kind
from skomirror.naming import FILE_TRANSPORT, DiskDestination, RegistryDestination, parse_destination
from skomirror.outputs import RunInfo, errors_text, exit_code, mapping_text, missing_text, results_text, \
    summary_lines
from skomirror.plan import make_plan
from skomirror.processes import ChildProcesses
from skomirror.progress import CHECKING, MIRRORING, Counts, Progress, format_bytes
from skomirror.retry import RetryPolicy
from skomirror.runner import SkopeoRunner
from skomirror.shipments import History
from skomirror.skopeo import CopySettings, RegistryAccess, Skopeo, check_authfile
from skomirror.store import Store
from skomirror.workspace import Workspace

# Measured in BENCHMARKS.md ("Choosing --parallel-images").
DEFAULT_PARALLEL_IMAGES = 8
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
    max_nested_paths: int = 0
    authfile: Optional[Path] = None
    source_access: RegistryAccess = field(default_factory=RegistryAccess)
    destination_access: RegistryAccess = field(default_factory=RegistryAccess)
    archive_size: Optional[int] = None  # bytes per part; None: the ISC's archiveSize, else one part
    keep_going: bool = False
    since: Optional[date] = None
    full_archive: bool = False
    skopeo_binary: str = "skopeo"


@dataclass
class Workflow:
    mode: str
    destination: Union[RegistryDestination, DiskDestination]
    from_dir: Optional[Path] = None
    store: Optional[Store] = None

    @property
    def archive_dir(self) -> Optional[Path]:
        return self.destination.path if self.mode == MIRROR_TO_DISK else None


@contextlib.contextmanager
def signals_interrupt():
    """SIGTERM and SIGHUP stop the run the way Ctrl-C does."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt()

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _workflow(options: RunOptions) -> Workflow:
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


def _endpoints(workflow: Workflow, options: RunOptions):
    if workflow.mode == MIRROR_TO_DISK:
        return RegistryEndpoint(), StoreEndpoint(workflow.store)
    target = RegistryEndpoint(workflow.destination, options.max_nested_paths)
    if workflow.mode == DISK_TO_MIRROR:
        return StoreEndpoint(workflow.store), target
    return RegistryEndpoint(), target


def _tls_warnings(options: RunOptions, workflow: Workflow) -> List[str]:
    """One warning per registry side whose TLS verification is off (the store has no TLS to speak of)."""
    sides = []
    if workflow.mode != DISK_TO_MIRROR:
        sides.append(("source", options.source_access))
    if workflow.mode != MIRROR_TO_DISK:
        sides.append(("destination", options.destination_access))
    warnings = []
    for side, access in sides:
        if not access.tls_verify:
            flag = "--src-tls-verify=false" if side == "source" else "--dest-tls-verify=false"
            warnings.append(f"TLS verification is off for the {side} ({flag}): its identity is not checked")
    return warnings


def _check_destination(executor: Executor, record: ImageRecord, workflow: Workflow, retry: RetryPolicy) -> None:
    """Survey the first image alone: an unreachable or refusing destination ends the run before any copy."""
    executor.survey_one(record, retry.limited(1))
    survey = record.survey
    if survey.failure and survey.failed_on_destination and survey.failure.kind is not Kind.INTERRUPTED:
        raise SkomirrorError(f"cannot use the destination {workflow.destination}: {survey.failure.one_line} "
                             f"(log: {record.log})")


def _total_size(records: List[ImageRecord]) -> Optional[int]:
    """Bytes to copy, or None when some image's size is unknown."""
    sizes = [record.size for record in records]
    return None if any(size is None for size in sizes) else sum(sizes)


def _settled(records: List[ImageRecord]) -> Counts:
    counts = Counts()
    for record in records:
        counts.add(record.status, None)
    return counts


def _dry_run_report(records: List[ImageRecord], workspace: Workspace, say: Callable[[str], None]) -> None:
    workspace.write(workspace.missing, missing_text(records))
    missing = [record for record in records if record.status == PENDING]
    say(f"dry run: {len(records)} images planned, {len(missing)} to copy ({format_bytes(_total_size(missing))}), "
        f"{sum(r.status == SKIPPED for r in records)} already at the destination, "
        f"{sum(r.status == FAILED for r in records)} unreadable")
    for record in missing:
        say(f"  {record.image.source} -> {record.image.destination} ({format_bytes(record.size)})")
    for record in records:
        if record.status == FAILED:
            say(f"  cannot read {record.image.origin}: {record.failure.one_line}")
    say(f"mapping: {workspace.mapping}")
    say(f"missing: {workspace.missing}")


def _copy_phase(executor: Executor, records: List[ImageRecord], progress: Progress) -> None:
    to_copy = [record for record in records if record.status == PENDING]
    if not to_copy:
        return
    progress.start(MIRRORING, len(records), _total_size(to_copy), _settled([r for r in records if r.status != PENDING]))
    executor.copy_all(to_copy)
    progress.finish()


def _ship(records: List[ImageRecord], workflow: Workflow, workspace: Workspace, config: Path,
          options: RunOptions, part_limit: Optional[int], say: Callable[[str], None]) -> None:
    failed = sum(record.status == FAILED for record in records)
    if failed and not options.keep_going:
        say(f"no archive written: {failed} image(s) failed; fix them and rerun (only what is missing is fetched), "
            "or pass --keep-going to archive what was mirrored")
        return
    shipment = write_shipment(records, workflow.store, workflow.archive_dir, History(workspace.history), config,
                              part_limit, options.since, options.full_archive, say)
    if shipment:
        size = sum(part.size for part in shipment.parts)
        say(f"shipment {shipment.id}: {len(shipment.parts)} part(s), {format_bytes(size)}, "
            f"{len(shipment.blobs)} blobs not shipped before; carry {shipment.parts[0].name}"
            f"{' ... ' + shipment.parts[-1].name if len(shipment.parts) > 1 else ''} and {shipment.manifest_name} "
            f"from {workflow.archive_dir}")


def run(options: RunOptions, progress: Progress, warn: Callable[[str], None]) -> int:
    workflow = _workflow(options)
    config_path = options.config
    config = load_config(config_path) if config_path else None
    if options.authfile is not None:
        check_authfile(options.authfile)
    skopeo = Skopeo.locate(options.skopeo_binary)

    workspace = Workspace(options.workspace).prepare()
    if workflow.mode == DISK_TO_MIRROR:
        workflow.store = Store(workspace.root / "store")
        received = receive_shipments(workflow.from_dir, workflow.store, progress.say)
        if config is None:
            config_path = workflow.store.root / received[-1].isc
            progress.say(f"using the ImageSetConfiguration of shipment {received[-1].id} ({config_path})")
            config = load_config(config_path)
    source, target = _endpoints(workflow, options)
    plan = make_plan(collect(config), source, target, config.mirror.blocked_images)
    if not plan.images:
        reason = f" ({len(plan.blocked)} excluded by blockedImages)" if plan.blocked else ""
        raise SkomirrorError(f"{config_path}: the ImageSetConfiguration selects no images to mirror{reason}")
    part_limit = options.archive_size or ((config.archive_size or 0) * 1024 ** 3 or None)

    workspace.write(workspace.mapping, mapping_text(plan))
    settings = CopySettings(
        options.source_access, options.destination_access, options.authfile, options.parallel_layers,
        source_shared_blobs=workflow.store.blobs if workflow.mode == DISK_TO_MIRROR else None,
        destination_shared_blobs=workflow.store.blobs if workflow.mode == MIRROR_TO_DISK else None)
    info = RunInfo(str(workflow.destination), skopeo.capabilities.version_text,
                   time.strftime("%Y-%m-%dT%H:%M:%S%z"), mode=workflow.mode, dry_run=options.dry_run,
                   warnings=skopeo.unsupported(settings) + _tls_warnings(options, workflow))
    for message in info.warnings:
        warn(message)

    runner = SkopeoRunner(skopeo, ChildProcesses(), settings, options.retry)
    records = [ImageRecord(image, workspace.log_path(index, image.name))
               for index, image in enumerate(plan.images, 1)]
    executor = Executor(runner, source, target, options.parallel_images,
                        lambda r: progress.advance(r.status, r.size))
    started = time.monotonic()
    try:
        with signals_interrupt():
            _check_destination(executor, records[0], workflow, options.retry)
            progress.start(CHECKING, len(records), already=_settled(records[:1]))
            executor.survey_all(records)
            progress.finish()
            if workflow.mode == MIRROR_TO_DISK:
                check_space_for_disk_run(records, workflow.store, History(workspace.history), options.since,
                                         options.full_archive, workflow.archive_dir)
            if options.dry_run:
                _dry_run_report(records, workspace, progress.say)
                return exit_code(records, False)
            if workflow.mode == MIRROR_TO_DISK:
                workflow.store.prepare().remove_partial_writes()
            _copy_phase(executor, records, progress)
            if workflow.mode == MIRROR_TO_DISK:
                _ship(records, workflow, workspace, config_path, options, part_limit, progress.say)
    except KeyboardInterrupt:
        executor.stop()
        progress.finish()
        info.interrupted = True
        warn("interrupted: every skopeo process was stopped; rerun the same command to resume")
    info.elapsed = time.monotonic() - started
    workspace.write(workspace.results, results_text(records, info, plan))
    errors = errors_text(records)
    if errors:
        workspace.write(workspace.errors, errors)
    elif workspace.errors.exists():
        workspace.errors.unlink()
    for line in summary_lines(records, info, workspace, plan):
        progress.say(line)
    return exit_code(records, info.interrupted)
