"""Running the plan: a bounded pool of workers, each driving one skopeo at a time.

Workers pull from a queue rather than running in batches, so one slow image
never holds the others back. The main thread only waits, which keeps it free
to take Ctrl-C or SIGTERM and stop every child.
"""

import dataclasses
import functools
import threading
import time
from typing import Callable, Dict, List, Optional, Set, Tuple

from skomirror.skopeo.failures import OVERLOADED, RATE_LIMITED
from skomirror.execution.limiter import RegistryLimiter
from skomirror.planned import PlannedImage
from skomirror.registry.present import PresentBlobs
from skomirror.registry.tags import DestinationTags
from skomirror.skopeo.outages import Watch
from skomirror.skopeo.processes import Stopped
from skomirror.skopeo.retry import RetryPolicy, SkopeoFailed
from skomirror.skopeo.runner import SkopeoRunner, note_retry
from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.manifests import ManifestError
from skomirror.store import MissingFromStore
from skomirror.execution.meter import ByteMeter
from skomirror.execution.pool import TaskQueue, WorkerPool
from skomirror.execution.scheduler import BlobScheduler
from skomirror.records import Failure, FailureKind, ImageFacts, ImageRecord, Span, Status, Survey
from skomirror.execution.sparse import copy_some_platforms
from skomirror.survey import Surveyor, source_endpoint

def _destination_registry(image: PlannedImage) -> Optional[str]:
    return image.destination.split("/", 1)[0] if image.destination_spec.startswith("docker://") else None


def registries_of(image: PlannedImage) -> List[str]:
    """The registries a copy talks to: its source unless it comes from a store, its destination unless disk."""
    found = [] if image.source_store else [image.source.registry]
    destination = _destination_registry(image)
    return found + ([destination] if destination else [])


def sides_of(image: PlannedImage) -> Dict[str, str]:
    """registry -> "source", "destination", or "registry" when a copy stays within one."""
    sides = {} if image.source_store else {image.source.registry: "source"}
    destination = _destination_registry(image)
    if destination:
        sides[destination] = "registry" if destination in sides else "destination"
    return sides


SURVEY_THREADS = 32  # checks are HTTP requests, far lighter than copies: more of them can wait on the network


class Executor:
    def __init__(self, runner: SkopeoRunner, target: Endpoint, parallel_images: int, on_done: Callable[[ImageRecord], None],
                 limiter: Optional[RegistryLimiter] = None, trusted: Optional[Dict[str, dict]] = None):
        """target: the endpoint the plan was made for; trusted: see Surveyor."""
        self.runner = runner
        self.target = target
        self.trusted = trusted or {}
        self.known_sources: Dict[str, ImageFacts] = {}  # destination -> source facts read before the survey
        self.destination_tags: Optional[DestinationTags] = None  # read by the surveys, dropped by copy_all
        self.limiter = limiter or RegistryLimiter(parallel_images)
        self.parallel_images = parallel_images
        self.on_done = on_done
        self._lock = threading.Lock()
        self._stop_queue: Callable[[], object] = lambda: None  # empties the running phase's queue
        self.byte_samples: List[Tuple[float, int]] = []  # (time, bytes moved so far), once a second, for the report

    def stop(self) -> None:
        """Stop every child and start nothing more; safe to call from the main thread at any time."""
        self.runner.children.stop_all()
        self._stop_queue()

    def _pool(self, size: int, next_task, work, stop_queue) -> None:
        self._stop_queue = stop_queue
        pool = WorkerPool(size, next_task, work)
        try:
            pool.run()
        except KeyboardInterrupt:
            self.stop()
            pool.wait()
            raise
        except Exception:  # a bug in a worker: stop every child now rather than after the others finish
            self.stop()
            raise

    def survey_one(self, record: ImageRecord, retry: Optional[RetryPolicy] = None) -> None:
        started = time.monotonic()
        try:
            surveyor = Surveyor(self.runner, self.target, retry, self.trusted, self.known_sources,
                                self.destination_tags)
            record.survey = surveyor.survey(record.image, record.log)
        except Stopped:
            record.survey = Survey(failure=Failure.interrupted())
        record.seconds += time.monotonic() - started
        if record.survey.failure:
            record.fail(record.survey.failure)
        elif record.survey.up_to_date:
            record.status, record.digest = Status.SKIPPED, record.survey.destination_digest

    def survey_all(self, records: List[ImageRecord], then: Optional[Callable[[ImageRecord], None]] = None) -> None:
        """Survey every record not surveyed yet; then(record), if given, for every record in the same workers:
        right after its survey, or at once for one surveyed before (the first image, Run._check_destination)."""
        queue = TaskQueue(record for record in records if record.survey is None or then is not None)
        if self.target.store is None:  # a registry: its tag lists stand until copies start (see copy_all)
            if self.destination_tags is None:
                self.destination_tags = DestinationTags(self.runner.client)
            self.destination_tags.expect(r.image.destination_repository for r in records if r.survey is None)

        def work(record: ImageRecord) -> None:
            if record.survey is None:
                self.survey_one(record)
                self.on_done(record)
            if then is not None:
                then(record)

        self._pool(max(self.parallel_images, SURVEY_THREADS), queue.next, work, queue.clear)

    def read_sources(self, records: List[ImageRecord]) -> Dict[str, Optional[ImageFacts]]:
        """The source facts of every record, whatever the destination holds (a shard cuts the plan with them);
        None for one that cannot be read. Kept for the survey, which then reads no source again."""
        queue, found = TaskQueue(records), {}

        def work(record: ImageRecord) -> None:
            try:
                facts = source_endpoint(record.image).facts(record.image, self.runner, record.log, None)
            except (SkopeoFailed, ManifestError, MissingFromStore, Stopped):  # unknown: see skomirror.shards
                facts = None
            with self._lock:
                found[record.image.destination_spec] = facts

        self._pool(SURVEY_THREADS, queue.next, work, queue.clear)
        self.known_sources.update((spec, facts) for spec, facts in found.items() if facts is not None)
        return found

    def blobs_present(self, records: List[ImageRecord]) -> PresentBlobs:
        """Of the blobs each destination repository needs, those already there (manifests are put every time)."""
        needed: Dict[str, Set[str]] = {}
        for record in records:
            if record.facts is not None:
                needed.setdefault(record.image.destination_repository, set()).update(record.facts.blobs)
        return self.target.blobs_present(needed, self.runner, SURVEY_THREADS) if needed else {}

    def copy_all(self, records: List[ImageRecord], meter: ByteMeter, show_bytes: Callable[[int], None],
                 present: Optional[PresentBlobs] = None) -> None:
        """meter (a ByteMeter) and show_bytes: byte progress, sampled once a second while copies run;
        present: what blobs_present found."""
        self.destination_tags = None  # what the copies write, the lists read before them would call absent
        limiter = self.limiter
        scheduler = BlobScheduler(records, lambda r: r.image.destination_repository, lambda r: r.blobs,
                                  present=present,
                                  rewritten=lambda r: set(r.facts.manifests) if r.facts is not None else set(),
                                  ready=lambda r: all(p.status != Status.PENDING for p in r.prerequisites),
                                  acquire=lambda r: limiter.acquire(registries_of(r.image)))

        def work(record: ImageRecord) -> None:
            meter.started(record)
            try:
                self.copy(record)
            finally:
                scheduler.finished(record, succeeded=record.status == Status.COPIED)
                meter.finished(record)
                self.on_done(record)

        done = threading.Event()

        def sample() -> None:
            while not done.wait(1.0):  # each running copy's bytes: the stall watchdog's last read, else /proc
                value = meter.value()
                self.byte_samples.append((time.time(), value))
                show_bytes(value)

        threading.Thread(target=sample, name="byte-meter", daemon=True).start()
        try:
            self._pool(self.parallel_images, scheduler.next, work, scheduler.stop)
        finally:
            done.set()
            show_bytes(meter.value())

    def copy(self, record: ImageRecord) -> None:
        failed = [p for p in record.prerequisites if p.status in (Status.FAILED, Status.INTERRUPTED)]
        if failed:
            what, why = ("signature", "the image it signs") if record.image.signs else \
                ("operator bundle", "one of its related images")
            record.fail(Failure(FailureKind.PERMANENT, "related image failed",
                                f"skipping {what} {record.image.origin} because {why} failed to mirror: "
                                f"{failed[0].image.origin}"))
            return
        started = time.monotonic()
        source, destination = record.image.source_spec, record.image.destination_spec
        source_blobs = record.image.source_store.blobs if record.image.source_store else None
        selection = record.facts.selection if record.facts else None

        watch: Watch = self.runner.outages.watch(sides_of(record.image))

        def attempt() -> str:
            record.attempts += 1
            begun: Optional[float] = time.time()
            ok = False
            try:
                if selection is not None:
                    pushed = copy_some_platforms(record, selection, source_endpoint(record.image), self.target,
                                                 self.runner)
                else:
                    pushed = self.runner.copy_once(source, destination, record.log, record.attempts, source_blobs,
                                                   tag=record)
                ok = True
                return pushed
            except Stopped:  # raised before any skopeo of this attempt started: it was not made
                record.attempts, begun = record.attempts - 1, None
                raise
            except SkopeoFailed as failed:
                if failed.failure.label in (RATE_LIMITED, OVERLOADED):
                    self.limiter.slow_down(watch.culprit(failed.failure) or record.image.source.registry,
                                           failed.failure.label)
                raise
            finally:
                if begun is not None:
                    record.spans.append(Span(begun, time.time(), f"copy attempt {record.attempts}", ok))

        try:
            pushed = self.runner.retry.call(attempt, self.runner.children.stopping,
                                            functools.partial(note_retry, record.log), watch)
            record.status = Status.COPIED
            surveyed = record.survey.source_digest if record.survey else None
            record.digest = pushed or surveyed
            standing = record.facts.digests_standing_for_it if record.facts else (surveyed,)
            if surveyed and record.digest not in standing:  # what landed is what is recorded (ImageRecord.landed)
                with open(record.log, "a") as log:
                    log.write(f"=== the source moved after the survey ({surveyed}): copied {record.digest}\n")
                record.copied = self._facts_of_copy(record)
            if record.attempts == 1:
                self.limiter.speed_up(registries_of(record.image))
        except SkopeoFailed as failed:
            record.fail(failed.failure)
            if record.image.kind.group == "release":  # as oc-mirror: an incomplete release stops the run
                self._stop_queue()
        except Stopped:
            record.fail(Failure.interrupted())
        finally:
            record.seconds += time.monotonic() - started

    def _facts_of_copy(self, record: ImageRecord) -> Optional[ImageFacts]:
        """What the copy wrote: from the store it wrote into, else from the source by the digest copied."""
        image, digest = record.image, record.digest
        try:
            if self.target.store is not None:
                return self.target.store.facts(digest, image.name)
            if image.source_store is None:
                pinned = dataclasses.replace(image.source, digest=digest)
                planned = dataclasses.replace(image, source=pinned, source_spec=pinned.transport_spec)
                return RegistryEndpoint().facts(planned, self.runner, record.log, self.runner.retry.limited(1))
        except (SkopeoFailed, MissingFromStore, ManifestError):
            pass
        return None
