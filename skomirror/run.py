"""`skomirror run`: config -> collectors -> plan -> survey -> copies -> outputs.

Three workflows share every stage; they differ only in their endpoints:
mirror to mirror (registry -> registry), mirror to disk (registry -> store,
then a shipment of archives) and disk to mirror (received shipments -> store
-> registry). What can be refused is refused before a copy starts: the
config, DEST, the auth file, skopeo itself, the catalogs, the archives, free
disk space and whether the destination answers.
"""

import contextlib
import dataclasses
import os
import signal
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from skomirror.cluster_resources import load_template, write_cluster_resources
from skomirror.collectors import Collected, CollectedImage, ImageKind, OperatorContext, ReleaseContext, collect
from skomirror.config import load_config
from skomirror.airgap.disk import check_space_for_disk_run, receive_shipments, shipment_images, write_shipment
from skomirror.endpoints import RegistryEndpoint, StoreEndpoint
from skomirror.errors import EXIT_OK, SkomirrorError
from skomirror.execution.executor import Executor
from skomirror.records import FailureKind, ImageRecord, Status
from skomirror.journal import Journal
from skomirror.execution.meter import ByteMeter
from skomirror.outputs import RunInfo, errors_text, exit_code, mapping_text, results_text, summary_lines
from skomirror.plan import Plan, make_plan
from skomirror.skopeo.processes import ChildProcesses
from skomirror.registry.client import RegistryClient
from skomirror.progress import CATALOGS, CHECKING, MIRRORING, Counts, Progress, format_bytes
from skomirror.release.signatures import load_signatures
from skomirror.reports import dry_run_report
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.airgap.shipments import History
from skomirror.skopeo.command import CopySettings, Skopeo, check_authfile
from skomirror.store import Store
from skomirror.workflows import DISK_TO_MIRROR, MIRROR_TO_DISK, RunOptions, Workflow, choose_workflow, \
    tls_warnings
from skomirror.workspace import Workspace

__all__ = ["RunOptions", "run"]


class NothingToDo(Exception):
    """The run has nothing to do and says so; not an error."""


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


def _settled(records: List[ImageRecord]) -> Counts:
    counts = Counts()
    for record in records:
        counts.add(record.status)
    return counts


class Run:
    def __init__(self, options: RunOptions, progress: Progress, warn: Callable[[str], None]):
        self.options, self.progress, self.warn = options, progress, warn
        self.workflow: Workflow = choose_workflow(options)
        self.config_path: Optional[Path] = options.config
        self.config = load_config(options.config) if options.config else None
        if options.authfile is not None:
            check_authfile(options.authfile)
        self.skopeo = Skopeo.locate(options.skopeo_binary)
        self.workspace = Workspace(options.workspace).prepare()
        settings = CopySettings(options.source_access, options.destination_access, options.authfile,
                                options.parallel_layers)
        client = RegistryClient(options.source_access, options.destination_access, options.authfile)
        self.runner = SkopeoRunner(self.skopeo, ChildProcesses(options.stall_timeout), settings, options.retry,
                                   client)
        self.executors: List[Executor] = []
        self.collected = Collected()
        self.journal = Journal(self.workspace.journal, self.workspace.run_id)
        self.records: List[ImageRecord] = []
        self.plan = Plan([])

    def _runner_into(self, store: Optional[Store]) -> SkopeoRunner:
        """The run's runner, told that `store` (when writing into one) shares its blobs across images."""
        settings = dataclasses.replace(self.runner.settings,
                                       destination_shared_blobs=store.blobs if store is not None else None)
        return dataclasses.replace(self.runner, settings=settings)

    # --- collect ---

    def _fetch_into(self, store: Store) -> Callable[[List[CollectedImage]], Dict[str, tuple]]:
        """Pull images (catalogs, payloads) into `store` with the same executor, logs and progress as the rest."""

        def fetch(images: List[CollectedImage]) -> Dict[str, tuple]:
            store.prepare()
            target = StoreEndpoint(store)
            plan = make_plan(images, RegistryEndpoint(), target)
            records = self._records(plan, "fetch")
            self._execute(Executor(self._runner_into(store), target, self.options.parallel_images, self._advance),
                          records, CATALOGS)
            return {record.image.origin: (record.digest if record.status in (Status.COPIED, Status.SKIPPED) else None,
                                          record.failure.one_line if record.failure else "interrupted")
                    for record in records}

        return fetch

    @property
    def release_store(self) -> Store:
        """Where payloads are read and the graph image built: in mirror to disk, the store that is shipped."""
        if self.workflow.mode in (MIRROR_TO_DISK, DISK_TO_MIRROR):
            return self.workflow.store
        return Store(self.workspace.root / "release-images")

    def collect(self) -> List[CollectedImage]:
        if self.workflow.mode == DISK_TO_MIRROR:
            self.workflow.store = Store(self.workspace.root / "store")
            received = receive_shipments(self.workflow.from_dir, self.workflow.store, self.progress.say)
            if self.config is not None:
                self.warn("with --from, what the shipments carry is pushed; CONFIG is only checked, not used")
            self.config_path = self.workflow.store.root / received[-1].isc
            return shipment_images(received)
        catalogs = Store(self.workspace.root / "operator-catalogs")
        operator_context = OperatorContext(catalogs, Store(self.workspace.root / "filtered-catalogs").prepare(),
                                           self.workspace.root / "catalog-configs", self._fetch_into(catalogs))
        options, store = self.options, self.release_store
        release_context = ReleaseContext(store, self._fetch_into(store), store.signatures,
                                         self.workspace.root / "release-graphs", options.update_url,
                                         options.graph_data, options.graph_base_image, options.signature_url,
                                         options.require_signatures, self.warn)
        self.collected = collect(self.config, operator_context, release_context)
        return self.collected.images

    # --- plan, survey, copy ---

    def _records(self, plan: Plan, phase: str = "") -> List[ImageRecord]:
        records = [ImageRecord(image, self.workspace.log_path(index, image.name, phase))
                   for index, image in enumerate(plan.images, 1)]
        by_source = {record.image.source.pull_spec: record for record in records}
        for record in records:  # an operator bundle waits for its related images
            record.prerequisites = [by_source[spec] for spec in record.image.requires if spec in by_source]
        return records

    def _advance(self, record: ImageRecord) -> None:
        self.progress.advance(record.status)

    def _finished(self, record: ImageRecord) -> None:
        self._advance(record)
        if record.status != Status.PENDING:  # a survey that leaves the copy to do is not an end
            self.journal.record(record)

    def _execute(self, executor: Executor, records: List[ImageRecord], label: str, check_first: bool = False):
        self.executors.append(executor)
        if check_first:
            self._check_destination(executor, records[0])
        self.progress.start(CHECKING, len(records), already=_settled(records[:1] if check_first else []))
        executor.survey_all(records)
        self.progress.finish()
        if label == MIRRORING and self.workflow.mode == MIRROR_TO_DISK:
            check_space_for_disk_run(records, self.workflow.store, History(self.workspace.history),
                                     self.options.since, self.options.full_archive, self.workflow.archive_dir)
        if self.options.dry_run and label == MIRRORING:
            return
        if self.workflow.mode == MIRROR_TO_DISK and label == MIRRORING:
            self.workflow.store.prepare().remove_partial_writes()
        to_copy = [record for record in records if record.status == Status.PENDING]
        broken = [r for r in records if r.status == Status.FAILED and r.image.kind.group == "release"]
        if broken and to_copy:  # as oc-mirror: a release that cannot be complete stops the run
            self.progress.say(f"release image {broken[0].image.origin} cannot be read: nothing is copied")
            return
        if to_copy:
            present = executor.blobs_present(to_copy)
            meter = ByteMeter(to_copy, self.runner.children.bytes_read, present)
            self.progress.start(label, len(records), meter.total or None,
                                _settled([r for r in records if r.status != Status.PENDING]))
            executor.copy_all(to_copy, meter, self.progress.set_bytes, present)
            self.progress.finish()

    def _check_destination(self, executor: Executor, record: ImageRecord) -> None:
        """Survey the first image alone: an unreachable or refusing destination ends the run before any copy."""
        executor.survey_one(record, self.options.retry.limited(1))
        survey = record.survey
        if survey.failure and survey.failed_on_destination and survey.failure.kind is not FailureKind.INTERRUPTED:
            raise SkomirrorError(f"cannot use the destination {self.workflow.destination}: "
                                 f"{survey.failure.one_line} (log: {record.log})")

    def mirror(self, images: List[CollectedImage]) -> None:
        source, target = self.workflow.endpoints(self.options.max_nested_paths)
        blocked = self.config.mirror.blocked_images if self.config else []
        self.plan = make_plan(images, source, target, blocked)
        if not self.plan.images:
            reason = f" ({len(self.plan.blocked)} excluded by blockedImages)" if self.plan.blocked else ""
            raise SkomirrorError(f"{self.config_path}: the ImageSetConfiguration selects no images to mirror{reason}")
        self.workspace.write(self.workspace.mapping, mapping_text(self.plan))
        if self.options.rerun_failed:
            self._keep_only_last_failures()
        runner = self._runner_into(self.workflow.store if self.workflow.mode == MIRROR_TO_DISK else None)
        self.records = self._records(self.plan)
        executor = Executor(runner, target, self.options.parallel_images, self._finished,
                            trusted=self.journal.trusted())
        self._execute(executor, self.records, MIRRORING, check_first=True)

    def _keep_only_last_failures(self) -> None:
        failed = self.journal.failed_last_time()
        if failed is None:
            raise SkomirrorError(f"--rerun-failed: no earlier run in {self.workspace.journal}")
        kept = [image for image in self.plan.images if image.destination_spec in failed]
        if not kept:
            raise NothingToDo("--rerun-failed: nothing failed in the last run")
        self.progress.say(f"--rerun-failed: {len(kept)} of {len(self.plan.images)} images failed last time")
        self.plan = Plan(kept, self.plan.blocked, self.plan.duplicates)

    # --- outputs ---

    def ship(self) -> None:
        failed = sum(record.status == Status.FAILED for record in self.records)
        if failed and not self.options.keep_going:
            self.progress.say(f"no archive written: {failed} image(s) failed; fix them and rerun (only what is "
                              "missing is fetched), or pass --keep-going to archive what was mirrored")
            return
        shipment = write_shipment(self.records, self.workflow.store, self.workflow.archive_dir,
                                  History(self.workspace.history), self.config_path, self.part_limit,
                                  self.options.since, self.options.full_archive, self.progress.say)
        if shipment:
            size = sum(part.size for part in shipment.parts)
            last = f" ... {shipment.parts[-1].name}" if len(shipment.parts) > 1 else ""
            self.progress.say(f"shipment {shipment.id}: {len(shipment.parts)} part(s), {format_bytes(size)}, "
                              f"{len(shipment.blobs)} blobs not shipped before; carry {shipment.parts[0].name}{last} "
                              f"and {shipment.manifest_name} from {self.workflow.archive_dir}")

    @property
    def part_limit(self) -> Optional[int]:
        archive_size = self.config.archive_size if self.config else None
        return self.options.archive_size or ((archive_size or 0) * 1024 ** 3 or None)

    def cluster_resources(self) -> None:
        present = [r.image for r in self.records if r.status in (Status.COPIED, Status.SKIPPED)]
        templates = {operator.catalog: load_template(Path(operator.target_catalog_source_template), self.warn)
                     for operator in (self.config.mirror.operators if self.config else [])
                     if operator.target_catalog_source_template}
        signatures = load_signatures(self.release_store.signatures,
                                     [r.digest for r in self.records if r.image.kind is ImageKind.RELEASE and r.digest])
        written = write_cluster_resources(present, self.workspace.cluster_resources,
                                          self.options.max_nested_paths > 0, templates, signatures)
        if written:
            self.progress.say(f"cluster resources: {len(written)} file(s) in {self.workspace.cluster_resources}")

    def finish(self, info: RunInfo) -> int:
        self.workspace.write(self.workspace.results, results_text(self.records, info, self.plan))
        errors = errors_text(self.records)
        if errors:
            self.workspace.write(self.workspace.errors, errors)
        elif self.workspace.errors.exists():
            self.workspace.errors.unlink()
        for line in summary_lines(self.records, info, self.workspace, self.plan):
            self.progress.say(line)
        return exit_code(self.records, info.interrupted)

    def stop(self) -> None:
        for executor in self.executors:
            executor.stop()


@contextlib.contextmanager
def owner_only_files():
    """Everything the run creates (workspace, logs, stores, archives) is readable by its owner only."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def run(options: RunOptions, progress: Progress, warn: Callable[[str], None]) -> int:
    with owner_only_files():
        return _run(options, progress, warn)


def _run(options: RunOptions, progress: Progress, warn: Callable[[str], None]) -> int:
    job = Run(options, progress, warn)
    job.journal.begin()
    info = RunInfo(str(job.workflow.destination), job.skopeo.capabilities.version_text,
                   time.strftime("%Y-%m-%dT%H:%M:%S%z"), mode=job.workflow.mode, dry_run=options.dry_run)
    started = time.monotonic()
    try:
        with signals_interrupt():
            info.warnings = job.skopeo.unsupported(job.runner.settings) + tls_warnings(options, job.workflow)
            for message in info.warnings:
                warn(message)
            images = job.collect()
            job.mirror(images)
            if options.dry_run:
                dry_run_report(job.records, job.collected, job.workspace, progress.say)
                return exit_code(job.records, False)
            if job.workflow.mode == MIRROR_TO_DISK:
                job.ship()
            else:
                job.cluster_resources()
    except KeyboardInterrupt:
        job.stop()
        progress.finish()
        info.interrupted = True
        warn("interrupted: every skopeo process was stopped; rerun the same command to resume")
    except NothingToDo as done:
        progress.say(str(done))
        return EXIT_OK
    info.elapsed = time.monotonic() - started
    info.rate_limits = [event for executor in job.executors for event in executor.limiter.events]
    if job.runner.children.unwatchable:
        warn("stall detection was off: /proc/<pid>/io could not be read for skopeo")
    code = job.finish(info)
    job.journal.end(complete=code == EXIT_OK)
    return code
