"""The copy machinery one command drives: a skopeo runner, its executors, per-image records and logs, the
survey and copy phases behind the progress bar, and pulls into a store.

`run` is built on it (skomirror.run.Run), and so is any command that only needs an image or two pulled
into the workspace first, such as `list operators` pulling a catalog: the same skopeo settings, retries,
logs and progress, without a workflow or a destination.
"""

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence

from skomirror.collectors.types import CollectedImage
from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.endpoints.store import StoreEndpoint
from skomirror.execution.executor import Executor
from skomirror.execution.meter import ByteMeter
from skomirror.plan import Plan, make_plan
from skomirror.outputs import settled_line
from skomirror.progress import CATALOGS, CHECKING, Counts, InFlight, Progress
from skomirror.records import FetchResult, ImageRecord, Status
from skomirror.registry.client import RegistryClient
from skomirror.registry.registries_conf import RegistriesConf
from skomirror.skopeo.command import CopySettings, Skopeo
from skomirror.skopeo.processes import ChildProcesses, ProcessId
from skomirror.skopeo.outages import Outages
from skomirror.skopeo.retry import RetryPolicy
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.store import Store
from skomirror.workspace import Workspace


def runner_for(skopeo: Skopeo, registries: RegistriesConf, settings: CopySettings, retry: RetryPolicy,
               stall_timeout: Optional[float], progress: Progress,
               on_change: Optional[Callable[[List[ProcessId]], None]] = None) -> SkopeoRunner:
    """The runner of every command: skopeo's children (`on_change`: run ties them to its locks), the HTTP
    client that reads manifests first, both following the same registries.conf, and the status line's
    notice of which registry is down."""
    client = RegistryClient(settings.source, settings.destination, settings.authfile, registries)
    runner = SkopeoRunner(skopeo, ChildProcesses(stall_timeout, on_change=on_change), settings, retry, client,
                          Outages(retry.window, progress.say))
    progress.notice = runner.outages.status
    return runner


def make_runner(settings: CopySettings, retry: RetryPolicy, stall_timeout: Optional[float], progress: Progress,
                binary: str = "skopeo") -> SkopeoRunner:
    """runner_for a command besides `run`, with skopeo located (run locates it before it takes its locks)."""
    registries = RegistriesConf.load()
    return runner_for(Skopeo.locate(binary, registries.explicit), registries, settings, retry, stall_timeout,
                      progress)


def settled(records: List[ImageRecord]) -> Counts:
    counts = Counts()
    for record in records:
        counts.add(record.status)
    return counts


class CopyEngine:
    def __init__(self, workspace: Workspace, progress: Progress, runner: SkopeoRunner, parallel_images: int):
        self.workspace, self.progress, self.runner = workspace, progress, runner
        self.parallel_images = parallel_images
        runner.skopeo.share_cores(parallel_images)
        self.executors: List[Executor] = []

    def _executor(self, target: Endpoint, on_done: Callable[[ImageRecord], None],
                  trusted: Optional[Dict[str, dict]] = None) -> Executor:
        """An executor for copies into `target`; into a store, the copies share its blob directory."""
        store = target.store
        settings = dataclasses.replace(self.runner.settings,
                                       destination_shared_blobs=store.blobs if store is not None else None)
        executor = Executor(dataclasses.replace(self.runner, settings=settings), target,
                            self.parallel_images, on_done, trusted=trusted)
        self.executors.append(executor)
        return executor

    def fetch_into(self, store: Store) -> Callable[[List[CollectedImage]], Dict[str, FetchResult]]:
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

    def _records(self, plan: Plan, phase: str = "", earlier: Sequence[ImageRecord] = ()) -> List[ImageRecord]:
        records = [ImageRecord(image, self.workspace.log_path(index, image.name, phase))
                   for index, image in enumerate(plan.images, 1)]
        by_source = {record.image.source.pull_spec: record for record in [*earlier, *records]}
        for record in records:  # an operator bundle waits for its related images, a signature for its image
            record.prerequisites = [by_source[spec] for spec in record.image.requires if spec in by_source]
        return records

    def _advance(self, record: ImageRecord) -> None:
        self.progress.advance(record.status)
        if record.status != Status.PENDING:
            self.progress.debug(settled_line(record))

    def _survey(self, executor: Executor, records: List[ImageRecord],
                then: Optional[Callable[[ImageRecord], None]] = None) -> None:
        """Ask both ends about every record not surveyed yet (those surveyed already count as settled);
        `then` runs in the survey's worker as each record's survey ends."""
        self.progress.start(CHECKING, len(records), already=settled([r for r in records if r.survey is not None]))
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

        def in_flight() -> List[InFlight]:
            return [InFlight(str(r.image.name), done, r.size, r.attempts) for r, done in meter.in_flight()]

        self.progress.start(label, len(records), meter.total or None,
                            settled([r for r in records if r.status != Status.PENDING]), in_flight)
        executor.copy_all(to_copy, meter, self.progress.set_bytes, present)
        self.progress.finish()

    def stop(self) -> None:
        for executor in self.executors:
            executor.stop()
