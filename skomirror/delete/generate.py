"""`skomirror delete --generate`: what a DeleteImageSetConfiguration names, as it stands at the destination.

The configuration goes through the same collectors and naming as a mirror
(a run's machinery: catalogs and payloads are read the same way), then each
destination is asked for the digest it holds now. Only what is there is
listed; nothing is deleted.
"""

import threading
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from skomirror.delete.listing import DeleteItem, list_text
from skomirror.errors import SkomirrorError
from skomirror.execution.pool import TaskQueue, WorkerPool
from skomirror.plan import make_plan
from skomirror.planned import PlannedImage
from skomirror.progress import CHECKING, Progress
from skomirror.records import Status
from skomirror.run import Run, owner_only_files
from skomirror.skopeo.retry import SkopeoFailed
from skomirror.workflows.options import RunOptions

LOOKUP_THREADS = 16
DELETE_DIR = "delete"


def generate(options: RunOptions, progress: Progress, warn: Callable[[str], None]) -> Path:
    """Writes <workspace>/delete/delete-images.yaml (and a copy of the configuration; with --delete-id ID,
    delete-images-ID.yaml and delete-imageset-config-ID.yaml, as oc-mirror names them); returns its path."""
    with owner_only_files():
        job = Run(options, progress, warn)
        try:
            return _generate(job, options, progress, warn)
        finally:
            job.runner.children.stop_all()
            progress.finish()
            job.locks.release()


def _generate(job: Run, options: RunOptions, progress: Progress, warn: Callable[[str], None]) -> Path:
    for message in job.config.warnings:
        warn(message)
    plan = make_plan(job.collect(), job.workflow.source, job.workflow.target)
    if not plan.images:
        raise SkomirrorError(f"{options.config}: the DeleteImageSetConfiguration selects no images")
    found = _present(job, plan.images, progress)
    items = [DeleteItem(image.origin, image.destination_spec, image.kind, digest) for image, digest in found
             if digest]
    folder = job.workspace.root / DELETE_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    suffix = f"-{options.delete_id}" if options.delete_id else ""
    job.workspace.write(folder / f"delete-imageset-config{suffix}.yaml", Path(options.config).read_text())
    listing = job.workspace.write(folder / f"delete-images{suffix}.yaml", list_text(items))
    absent = [image for image, digest in found if not digest]
    progress.summary([f"{len(items)} of {len(found)} images are at {options.destination} and would be deleted; "
                      f"review {listing}, then run: skomirror delete --delete-yaml-file {listing} "
                      f"{options.destination}"])
    if absent:
        progress.summary([f"{len(absent)} not there (nothing to delete), e.g. {absent[0].destination}"])
    return listing


def _present(job: Run, images: List[PlannedImage], progress: Progress) -> List[Tuple[PlannedImage, Optional[str]]]:
    """Each image with the digest its destination holds now (None: not there), asked 16 at a time."""
    queue = TaskQueue(enumerate(images))
    found: List[Optional[str]] = [None] * len(images)
    lock = threading.Lock()
    failures: List[str] = []

    def look(task) -> None:
        index, image = task
        log = job.workspace.log_path(index + 1, image.name, "delete-generate")
        try:
            found[index] = job.workflow.target.current_digest(image, job.runner, log, None)
        except SkopeoFailed as failed:
            with lock:
                failures.append(f"{image.destination}: {failed.failure.one_line} (log: {log})")
        progress.advance(Status.PENDING if found[index] else Status.SKIPPED)

    progress.start(CHECKING, len(images))
    try:
        WorkerPool(LOOKUP_THREADS, queue.next, look).run()
    finally:
        progress.finish()
    if failures:  # a list that leaves out what could not be asked would delete less than reviewed, silently
        raise SkomirrorError(f"cannot tell what {len(failures)} destination(s) hold, nothing listed: {failures[0]}")
    return list(zip(images, found))
