"""`skomirror run`: config -> collectors -> plan -> survey -> copies -> outputs.

Everything that can be refused is refused before the workspace is touched or
a copy starts: the config, DEST, the auth file, skopeo itself, and whether
the destination answers.
"""

import contextlib
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional

from skomirror.collectors import collect
from skomirror.config import load_config
from skomirror.errors import SkomirrorError
from skomirror.executor import FAILED, PENDING, SKIPPED, Executor, ImageRecord
from skomirror.naming import DiskDestination, RegistryDestination, parse_destination
from skomirror.outputs import RunInfo, errors_text, exit_code, mapping_text, missing_text, results_text, \
    summary_lines
from skomirror.plan import Plan, make_plan
from skomirror.processes import ChildProcesses
from skomirror.progress import CHECKING, MIRRORING, Counts, Progress, format_bytes
from skomirror.failures import Kind
from skomirror.retry import RetryPolicy
from skomirror.runner import SkopeoRunner
from skomirror.skopeo import CopySettings, RegistryAccess, Skopeo, check_authfile
from skomirror.workspace import Workspace

# Measured in BENCHMARKS.md ("Choosing --parallel-images").
DEFAULT_PARALLEL_IMAGES = 8


@dataclass(frozen=True)
class RunOptions:
    config: Path
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
    skopeo_binary: str = "skopeo"


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


def _registry_destination(options: RunOptions) -> RegistryDestination:
    destination = parse_destination(options.destination)
    if options.from_dir is not None:
        raise SkomirrorError("--from (disk to mirror) is not supported yet; mirror registry to registry instead")
    if isinstance(destination, DiskDestination):
        raise SkomirrorError(f"DEST {options.destination!r}: mirror to disk (file://) is not supported yet; "
                             "use a docker:// destination")
    return destination


def _tls_warnings(options: RunOptions) -> List[str]:
    warnings = []
    for side, access in (("source", options.source_access), ("destination", options.destination_access)):
        if not access.tls_verify:
            flag = "--src-tls-verify=false" if side == "source" else "--dest-tls-verify=false"
            warnings.append(f"TLS verification is off for the {side} ({flag}): its identity is not checked")
    return warnings


def _check_destination(executor: Executor, record: ImageRecord, destination: RegistryDestination,
                       retry: RetryPolicy) -> None:
    """Survey the first image alone: an unreachable or refusing destination ends the run before any copy."""
    executor.survey_one(record, retry.limited(1))
    survey = record.survey
    if survey.failure and survey.failed_on_destination and survey.failure.kind is not Kind.INTERRUPTED:
        raise SkomirrorError(f"cannot use the destination {destination}: {survey.failure.one_line} "
                             f"(log: {record.log})")


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


def run(options: RunOptions, progress: Progress, warn: Callable[[str], None]) -> int:
    config = load_config(options.config)
    destination = _registry_destination(options)
    if options.authfile is not None:
        check_authfile(options.authfile)
    skopeo = Skopeo.locate(options.skopeo_binary)
    plan: Plan = make_plan(collect(config), destination, config.mirror.blocked_images, options.max_nested_paths)
    if not plan.images:
        reason = f" ({len(plan.blocked)} excluded by blockedImages)" if plan.blocked else ""
        raise SkomirrorError(f"{options.config}: the ImageSetConfiguration selects no images to mirror{reason}")

    workspace = Workspace(options.workspace).prepare()
    workspace.write(workspace.mapping, mapping_text(plan))
    settings = CopySettings(options.source_access, options.destination_access, options.authfile,
                            options.parallel_layers)
    info = RunInfo(str(destination), skopeo.capabilities.version_text, time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                   dry_run=options.dry_run, warnings=skopeo.unsupported(settings) + _tls_warnings(options))
    for message in info.warnings:
        warn(message)

    runner = SkopeoRunner(skopeo, ChildProcesses(), settings, options.retry)
    records = [ImageRecord(image, workspace.log_path(index, image.destination))
               for index, image in enumerate(plan.images, 1)]
    executor = Executor(runner, options.parallel_images, lambda r: progress.advance(r.status, r.size))
    started = time.monotonic()
    try:
        with signals_interrupt():
            _check_destination(executor, records[0], destination, options.retry)
            progress.start(CHECKING, len(records), already=_settled(records[:1]))
            executor.survey_all(records)
            progress.finish()
            if options.dry_run:
                _dry_run_report(records, workspace, progress.say)
                return exit_code(records, False)
            _copy_phase(executor, records, progress)
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


def _total_size(records: List[ImageRecord]) -> Optional[int]:
    """Bytes to copy, or None when some image's size is unknown."""
    sizes = [record.size for record in records]
    return None if any(size is None for size in sizes) else sum(sizes)


def _settled(records: List[ImageRecord]) -> Counts:
    counts = Counts()
    for record in records:
        counts.add(record.status, None)
    return counts


def _copy_phase(executor: Executor, records: List[ImageRecord], progress: Progress) -> None:
    to_copy = [record for record in records if record.status == PENDING]
    if not to_copy:
        return
    progress.start(MIRRORING, len(records), _total_size(to_copy), _settled([r for r in records if r.status != PENDING]))
    executor.copy_all(to_copy)
    progress.finish()
