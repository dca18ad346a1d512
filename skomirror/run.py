"""`skomirror run`: config -> collectors -> plan -> survey -> copies -> outputs.

The stages are the same for every workflow; what differs (endpoints, stores,
where images come from, what is left behind) lives in the workflow's class
(skomirror.workflows). What can be refused is refused before a copy starts:
the config, DEST, the auth file, skopeo itself, the catalogs, the archives,
free disk space and whether the destination answers.
"""

import contextlib
import dataclasses
import gc
import os
import signal
import time
from typing import Callable, Dict, List, Optional, Sequence

from skomirror.collectors import Collected, CollectedImage, OperatorContext, ReleaseContext, collect
from skomirror.config import load_config
from skomirror.crash import Crashed, write_crash_log
from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.endpoints.store import StoreEndpoint
from skomirror.errors import EXIT_OK, SkomirrorError
from skomirror.execution.executor import Executor
from skomirror.execution.meter import ByteMeter
from skomirror.journal import Journal
from skomirror.locking import Locks, me, take
from skomirror.outputs import RunInfo, errors_text, exit_code, mapping_text, results_text, summary_lines
from skomirror.plan import Plan, make_plan
from skomirror.progress import CATALOGS, CHECKING, MIRRORING, Counts, Progress
from skomirror.records import FailureKind, FetchResult, ImageRecord, Status
from skomirror.registry.client import RegistryClient
from skomirror.report_html import report_html
from skomirror.registry.registries_conf import RegistriesConf
from skomirror.reports import dry_run_report
from skomirror.signatures import SignatureLookups, count_signatures
from skomirror.skopeo.command import CopySettings, Skopeo, check_authfile
from skomirror.skopeo.processes import ChildProcesses
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.store import Store
from skomirror.workflows import Workflow, choose_workflow
from skomirror.workflows.options import RunOptions
from skomirror.workspace import Workspace

__all__ = ["RunOptions", "run"]


class NothingToDo(Exception):
    """The run has nothing to do and says so; not an error."""


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic collector off while a large ISC or plan is built: each pass it made rescanned all built
    so far, so reading an ISC of 20,000 images took 90 µs per image with it and 31 without (BENCHMARKS.md).
    What is built is a tree, freed by reference counting; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
        self.workspace = Workspace(options.workspace)
        self.workflow: Workflow = choose_workflow(options, self.workspace)
        with collector_paused():
            self.config = load_config(options.config, kind=options.config_kind) if options.config else None
        if options.authfile is not None:
            check_authfile(options.authfile)
        self.registries = RegistriesConf.load()  # read once, by the survey and (through skopeo) the copies
        self.skopeo = Skopeo.locate(options.skopeo_binary, self.registries.explicit)
        # Before anything is written: a run refused here leaves no trace.
        self.locks: Locks = take(self.workflow.places_to_lock(), me(self.workspace.root), progress.say)
        try:
            self._set_up(options)
        except BaseException:
            self.locks.release()
            raise

    def _set_up(self, options: RunOptions) -> None:
        self.workspace.prepare()
        settings = CopySettings(options.source_access, options.destination_access, options.authfile,
                                options.parallel_layers)
        client = RegistryClient(options.source_access, options.destination_access, options.authfile,
                                self.registries)
        children = ChildProcesses(options.stall_timeout, on_change=self.locks.record_children)
        self.runner = SkopeoRunner(self.skopeo, children, settings, options.retry, client)
        self.executors: List[Executor] = []
        self.collected = Collected()
        self.journal = Journal(self.workspace.journal, self.workspace.run_id)
        self.records: List[ImageRecord] = []
        self.plan = Plan([])
        self.copying: Optional[Executor] = None  # the executor of the plan's copies, whose byte samples the report draws

    def _executor(self, target: Endpoint, on_done: Callable[[ImageRecord], None],
                  trusted: Optional[Dict[str, dict]] = None) -> Executor:
        """An executor for copies into `target`; into a store, the copies share its blob directory."""
        store = target.store
        settings = dataclasses.replace(self.runner.settings,
                                       destination_shared_blobs=store.blobs if store is not None else None)
        executor = Executor(dataclasses.replace(self.runner, settings=settings), target,
                            self.options.parallel_images, on_done, trusted=trusted)
        self.executors.append(executor)
        return executor

    # --- collect ---

    def _fetch_into(self, store: Store) -> Callable[[List[CollectedImage]], Dict[str, FetchResult]]:
        """Pull images (catalogs, payloads) into `store` with the same executor, logs and progress as the rest."""

        def fetch(images: List[CollectedImage]) -> Dict[str, FetchResult]:
            store.prepare()
            target = StoreEndpoint(store)
            records = self._records(make_plan(images, RegistryEndpoint(), target), "fetch")
            executor = self._executor(target, self._advance)
            self._survey(executor, records)
            self._copy(executor, records, CATALOGS)
            return {record.image.origin: record.fetch_result() for record in records}

        return fetch

    def _from_config(self) -> List[CollectedImage]:
        root, options = self.workspace.root, self.options
        catalogs = Store(root / "operator-catalogs")
        operator_context = OperatorContext(catalogs, Store(root / "filtered-catalogs").prepare(),
                                           root / "catalog-configs", self._fetch_into(catalogs))
        store = self.workflow.release_store
        release_context = ReleaseContext(store, self._fetch_into(store), store.signatures, root / "release-graphs",
                                         options.update_url, options.graph_data, options.graph_base_image,
                                         options.signature_url, options.require_signatures, self.warn)
        self.collected = collect(self.config, operator_context, release_context)
        return self.collected.images

    def collect(self) -> List[CollectedImage]:
        return self.workflow.images(self._from_config, self.progress.say, self.warn)

    # --- plan, survey, copy ---

    def _records(self, plan: Plan, phase: str = "", earlier: Sequence[ImageRecord] = ()) -> List[ImageRecord]:
        records = [ImageRecord(image, self.workspace.log_path(index, image.name, phase))
                   for index, image in enumerate(plan.images, 1)]
        by_source = {record.image.source.pull_spec: record for record in [*earlier, *records]}
        for record in records:  # an operator bundle waits for its related images, a signature for its image
            record.prerequisites = [by_source[spec] for spec in record.image.requires if spec in by_source]
        return records

    def _advance(self, record: ImageRecord) -> None:
        self.progress.advance(record.status)

    def _finished(self, record: ImageRecord) -> None:
        self._advance(record)
        if record.status != Status.PENDING:  # a survey that leaves the copy to do is not an end
            self.journal.record(record)

    def _survey(self, executor: Executor, records: List[ImageRecord],
                then: Optional[Callable[[ImageRecord], None]] = None) -> None:
        """Ask both ends about every record not surveyed yet (those surveyed already count as settled)."""
        self.progress.start(CHECKING, len(records), already=_settled([r for r in records if r.survey is not None]))
        executor.survey_all(records, then)
        self.progress.finish()

    def _copy(self, executor: Executor, records: List[ImageRecord], label: str) -> None:
        """Copy what the survey left pending, with the byte meter behind the bar."""
        to_copy = [record for record in records if record.status == Status.PENDING]
        broken = [r for r in records if r.status == Status.FAILED and r.image.kind.group == "release"]
        if broken and to_copy:  # as oc-mirror: a release that cannot be complete stops the run
            self.progress.say(f"release image {broken[0].image.origin} cannot be read: nothing is copied")
            return
        if not to_copy:
            return
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
        workflow = self.workflow
        target = workflow.target
        blocked = self.config.mirror.blocked_images if self.config else []
        with collector_paused():
            self.plan = make_plan(images, workflow.source, target, blocked)
        if not self.plan.images:
            reason = f" ({len(self.plan.blocked)} excluded by blockedImages)" if self.plan.blocked else ""
            raise SkomirrorError(f"{workflow.config_path}: the ImageSetConfiguration selects no images to mirror"
                                 f"{reason}")
        self.workspace.write(self.workspace.mapping, mapping_text(self.plan))
        if self.options.rerun_failed:
            self._keep_only_last_failures()
        self.records = self._records(self.plan)
        executor = self._executor(target, self._finished, trusted=self.journal.trusted())
        self.copying = executor
        self._check_destination(executor, self.records[0])
        lookups = None if self.options.remove_signatures else SignatureLookups(self.runner)
        self._survey(executor, self.records, then=lookups)
        if lookups is not None:
            self._add_signatures(executor, lookups)
        workflow.check_before_copy(self.records)
        if self.options.dry_run:
            return
        workflow.prepare_to_write()
        self._copy(executor, self.records, MIRRORING)

    def _add_signatures(self, executor: Executor, lookups: SignatureLookups) -> None:
        """The cosign signatures of the surveyed images join the copies (see skomirror.signatures)."""
        found = lookups.collect(self.records)
        if found:
            signatures = self._records(make_plan(found, self.workflow.source, self.workflow.target), "signature",
                                       earlier=self.records)
            self._survey(executor, signatures)
            self.records += signatures

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

    def write_results(self, info: RunInfo) -> None:
        self.workspace.write(self.workspace.results, results_text(self.records, info, self.plan))
        samples = self.copying.byte_samples if self.copying else []
        self.workspace.write(self.workspace.report, report_html(self.records, str(info.destination), samples,
                                                               info.rate_limits, self.options.parallel_images))
        errors = errors_text(self.records)
        if errors:
            self.workspace.write(self.workspace.errors, errors)
        elif self.workspace.errors.exists():
            self.workspace.errors.unlink()

    def finish(self, info: RunInfo) -> int:
        self.write_results(info)
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
        job = Run(options, progress, warn)
        try:
            return _guarded(job)
        finally:
            job.runner.children.stop_all()  # none is left on any way out: the next run may start at once
            job.locks.release()


def _guarded(job: Run) -> int:
    """The run; on an error every child is stopped, and a bug becomes one line and a crash log."""
    info = RunInfo(str(job.workflow.destination), job.skopeo.capabilities.version_text,
                   time.strftime("%Y-%m-%dT%H:%M:%S%z"), mode=job.workflow.mode, dry_run=job.options.dry_run)
    try:
        return _run(job, info)
    except (SkomirrorError, OSError):
        job.stop()
        raise
    except Exception as crash:  # a bug: stop every child, keep what is known, say where the traceback is
        job.stop()
        job.progress.finish()
        log = write_crash_log(job.workspace.root, crash)
        with contextlib.suppress(Exception):
            info.warnings.append(f"skomirror crashed; see {log}")
            job.write_results(info)
        raise Crashed(crash, log) from None


def _run(job: Run, info: RunInfo) -> int:
    options, progress, warn = job.options, job.progress, job.warn
    job.journal.begin()
    started = time.monotonic()
    try:
        with signals_interrupt():
            info.warnings = (list(job.config.warnings) if job.config else []) + job.journal.warnings + \
                job.skopeo.unsupported(job.runner.settings) + job.workflow.tls_warnings() + job.registries.warnings
            if not job.runner.children.dies_with_parent:
                info.warnings.append("this system cannot tie skopeo's life to skomirror's (no Linux prctl): "
                                     "a killed skomirror may leave skopeo running")
            for message in info.warnings:
                warn(message)
            images = job.collect()
            job.mirror(images)
            if options.dry_run:
                dry_run_report(job.records, job.collected, job.workspace, progress.say)
                return exit_code(job.records, False)
            job.workflow.deliver(job.records, job.config, progress.say, warn)
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
    info.signatures = count_signatures(job.records, job.workflow.source.store, options.remove_signatures)
    if job.runner.children.unwatchable:
        warn("stall detection was off: /proc/<pid>/io could not be read for skopeo")
    if job.locks.unrecorded:
        warn(f"the running skopeo processes could not be recorded in {job.locks.unrecorded}")
    code = job.finish(info)
    job.journal.end(complete=code == EXIT_OK)
    return code
