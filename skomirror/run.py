"""`skomirror run`: config -> collectors -> plan -> survey -> copies -> outputs.

The stages are the same for every workflow; what differs (endpoints, stores,
where images come from, what is left behind) lives in the workflow's class
(skomirror.workflows). What can be refused is refused before a copy starts:
the config, DEST, the auth file, skopeo itself, the catalogs, the archives,
free disk space and whether the destination answers.
"""

import contextlib
import gc
import os
import signal
import time
from pathlib import Path
from typing import Callable, List, Optional

from skomirror.collectors import HELM, OPERATORS, RELEASES, Collected, CollectedImage, collect, sections
from skomirror.config.loader import load_config
from skomirror.crash import Crashed, write_crash_log
from skomirror.engine import CopyEngine, runner_for
from skomirror.errors import EXIT_OK, SkomirrorError
from skomirror.execution.executor import Executor
from skomirror.journal import Journal
from skomirror.locking import Locks, me, take
from skomirror.outputs import RunInfo, errors_text, exit_code, mapping_text, results_text, summary_lines
from skomirror.plan import Plan, make_plan
from skomirror.progress import MIRRORING, Progress
from skomirror.records import FailureKind, ImageRecord, Status
from skomirror.registry.registries_conf import RegistriesConf
from skomirror.report_html import report_html
from skomirror.reports import dry_run_report
from skomirror.sharding import SHARD_FILE, ShardReport, shard_record_text, take_share
from skomirror.signatures import SignatureLookups, count_signatures
from skomirror.skopeo.command import CopySettings, SignaturePolicy, Skopeo, check_authfile
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


class Run(CopyEngine):
    def __init__(self, options: RunOptions, progress: Progress, warn: Callable[[str], None]):
        self.options, self.warn = options, warn
        workspace = Workspace(options.workspace)
        self.workflow: Workflow = choose_workflow(options, workspace)
        with collector_paused():
            self.config = load_config(options.config, kind=options.config_kind) if options.config else None
        if options.authfile is not None:
            check_authfile(options.authfile)
        self.registries = RegistriesConf.load()  # read once, by the survey and (through skopeo) the copies
        self.skopeo = Skopeo.locate(options.skopeo_binary, self.registries.explicit, self._policy(options, warn))
        # Before anything is written: a run refused here leaves no trace.
        self.locks: Locks = take(self.workflow.places_to_lock(), me(workspace.root), progress.say)
        try:
            self._set_up(options, workspace, progress)
        except BaseException:
            self.locks.release()
            raise

    @staticmethod
    def _policy(options: RunOptions, warn: Callable[[str], None]) -> SignaturePolicy:
        """As oc-mirror's: disk to mirror pushes from skomirror's own store what mirror to disk checked."""
        if options.from_dir is None or not options.signature_policy.secure:
            return options.signature_policy
        warn("--secure-policy applies where images are pulled from their registries (mirror to disk, mirror to "
             "mirror); disk to mirror pushes what mirror to disk checked, as oc-mirror does")
        return SignaturePolicy()

    def _set_up(self, options: RunOptions, workspace: Workspace, progress: Progress) -> None:
        workspace.prepare()
        workspace.prune_logs(options.keep_logs)  # under the lock: no other run is writing its logs
        settings = CopySettings(options.source_access, options.destination_access, options.authfile,
                                options.parallel_layers)
        runner = runner_for(self.skopeo, self.registries, settings, options.retry, options.stall_timeout, progress,
                            on_change=self.locks.record_children)
        super().__init__(workspace, progress, runner, options.parallel_images)
        self.collected = Collected()
        self.journal = Journal(self.workspace.journal, self.workspace.run_id)
        self.records: List[ImageRecord] = []
        self.plan = Plan([])
        self.copying: Optional[Executor] = None  # the executor of the plan's copies, whose byte samples the report draws
        self.shard_report: Optional[ShardReport] = None  # --shard: what this shard took of the plan

    # --- collect ---

    def _from_config(self) -> List[CollectedImage]:
        """The contexts of the sections the ISC has, each collector's module imported only then."""
        root, options, present = self.workspace.root, self.options, sections(self.config)
        operator_context = release_context = helm_context = None
        if OPERATORS in present:
            from skomirror.collectors.operators import OperatorContext
            catalogs = Store(self.workspace.operator_catalogs)
            operator_context = OperatorContext(catalogs, Store(root / "filtered-catalogs").prepare(),
                                               self.workspace.catalog_configs, self.fetch_into(catalogs))
        if RELEASES in present:
            from skomirror.collectors.releases import ReleaseContext
            store = self.workflow.release_store
            release_context = ReleaseContext(store, self.fetch_into(store), store.signatures, root / "release-graphs",
                                             options.update_url, options.graph_data, options.graph_base_image,
                                             options.signature_url, options.require_signatures, self.warn)
        if HELM in present:
            from skomirror.collectors.helm import HelmContext
            charts = Store(root / "helm-charts")
            helm_context = HelmContext(charts, root / "helm-work", self.fetch_into(charts),
                                       Path(self.config.where.file).parent, options.source_access, self.warn)
        self.collected = collect(self.config, operator_context, release_context, helm_context)
        return self.collected.images

    def collect(self) -> List[CollectedImage]:
        return self.workflow.images(self._from_config, self.progress, self.warn)

    # --- plan, survey, copy ---

    def _finished(self, record: ImageRecord) -> None:
        self._advance(record)
        if record.status != Status.PENDING:  # a survey that leaves the copy to do is not an end
            self.journal.record(record)

    def _check_destination(self, executor: Executor, record: ImageRecord) -> None:
        """Survey the first image alone: an unreachable or refusing destination ends the run before any copy."""
        executor.survey_one(record, self.options.retry.limited(1))
        survey = record.survey
        if survey.failure and survey.failed_on_destination and survey.failure.kind is not FailureKind.INTERRUPTED:
            raise SkomirrorError(f"cannot use the destination {self.workflow.destination}: "
                                 f"{survey.failure.one_line} (log: {record.log})")
        if record.status != Status.PENDING:  # settled already: journaled and, at debug, announced as the rest
            self._finished(record)

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
        executor = self._executor(target, self._finished, trusted=self.journal.trusted())
        self.copying = executor
        if self.options.shard is not None:  # before anything else narrows the plan: every shard cuts it alike
            self.plan, self.shard_report = take_share(self.plan, self._records(self.plan, "shard"), executor,
                                                      self.options.shard, self.progress.say)
        self.workspace.write(self.workspace.mapping, mapping_text(self.plan))
        if self.options.rerun_failed:
            self._keep_only_last_failures()
        self.records = self._records(self.plan)
        if not self.records:  # a shard with nothing to do leaves its (empty) results for merge all the same
            return
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
        if self.shard_report is not None:
            workflow, dry_run = self.workflow, self.options.dry_run
            resources = workflow.release_store.signatures if workflow.writes_cluster_resources and not dry_run else None
            self.workspace.write(self.workspace.root / SHARD_FILE, shard_record_text(
                self.shard_report, self.records, workflow.mode, workflow.shipments_dir, self.config, resources,
                self.options.max_nested_paths > 0))
        errors = errors_text(self.records)
        if errors:
            self.workspace.write(self.workspace.errors, errors)
        elif self.workspace.errors.exists():
            self.workspace.errors.unlink()

    def finish(self, info: RunInfo) -> int:
        self.write_results(info)
        self.progress.summary(summary_lines(self.records, info, self.workspace, self.plan))
        return exit_code(self.records, info.interrupted)


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
            job.progress.finish()  # an error line must not land on the status line
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
                dry_run_report(job.records, job.collected, job.workspace, lambda line: progress.summary([line]))
                return exit_code(job.records, False)
            job.workflow.deliver(job.records, job.config, progress.say, warn)
    except KeyboardInterrupt:
        progress.interrupted()
        job.stop()
        progress.finish()
        info.interrupted = True
        warn("interrupted: every skopeo process was stopped; rerun the same command to resume")
    except NothingToDo as done:
        progress.say(str(done))
        return EXIT_OK
    info.elapsed = time.monotonic() - started
    info.rate_limits = [event for executor in job.executors for event in executor.limiter.events]
    info.warnings += job.runner.outages.lines
    info.signatures = count_signatures(job.records, job.workflow.source.store, options.remove_signatures)
    if job.runner.children.unwatchable:
        warn("stall detection was off: /proc/<pid>/io could not be read for skopeo")
    if job.locks.unrecorded:
        warn(f"the running skopeo processes could not be recorded in {job.locks.unrecorded}")
    code = job.finish(info)
    job.journal.end(complete=code == EXIT_OK)
    return code
