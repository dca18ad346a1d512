"""`skomirror delete --delete-yaml-file`: delete exactly the listed manifests, by digest.

With the run's concurrency, retries (the failure table), progress and per-image
logs. A manifest the workspace's last mirror put at the destination (same
repository, same digest) is kept and reported, never deleted: deleting a digest
removes every tag on it in its repository. Blobs are left to the registry's own
garbage collection.
"""

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

from skomirror.delete.generate import DELETE_DIR
from skomirror.delete.listing import DeleteItem, read_list
from skomirror.engine import make_runner
from skomirror.errors import EXIT_INTERRUPTED, EXIT_OK, InvalidReference, SkomirrorError
from skomirror.execution.pool import TaskQueue, WorkerPool
from skomirror.imageref import DOCKER_TRANSPORT, ImageRef
from skomirror.naming import RegistryDestination, parse_destination
from skomirror.progress import DELETING, Progress
from skomirror.records import Failure, Status
from skomirror.locking import Place, me, take
from skomirror.run import owner_only_files, signals_interrupt
from skomirror.skopeo.command import CopySettings, check_authfile
from skomirror.skopeo.processes import Stopped, note
from skomirror.skopeo.retry import SkopeoFailed
from skomirror.workflows.options import RunOptions
from skomirror.workspace import Workspace

DELETED, KEPT, GONE, FAILED, NOT_DONE = "deleted", "kept", "already gone", "failed", "interrupted"


@dataclass
class Removal:
    item: DeleteItem
    log: Path
    status: str = NOT_DONE
    digest: Optional[str] = None
    note: str = ""
    failure: Optional[Failure] = None
    attempts: int = 0

    @property
    def progress_status(self) -> Status:
        return {DELETED: Status.COPIED, KEPT: Status.SKIPPED, GONE: Status.SKIPPED,
                FAILED: Status.FAILED}.get(self.status, Status.INTERRUPTED)


def still_needed(workspace: Workspace, destination: RegistryDestination, warn: Callable[[str], None]) \
        -> Dict[Tuple[str, str], str]:
    """(repository, digest) -> destination, for what the workspace's last mirror into DEST holds."""
    try:
        document = json.loads(workspace.results.read_text())
        run, images = document["run"], document["images"]
        if str(run["destination"]) != str(destination):
            warn(f"the last run in {workspace.root} mirrored to {run['destination']}, not {destination}: "
                 "nothing it needs is known, so nothing is protected from deletion")
            return {}
        needed = {}
        for image in images:
            if image.get("status") in (Status.COPIED, Status.SKIPPED) and image.get("digest"):
                repository = ImageRef.parse(str(image["destination"])).repository
                needed[(repository, image["digest"])] = image["destination"]
        return needed
    except FileNotFoundError:
        warn(f"no earlier mirror in {workspace.root} (results.json): nothing is protected from deletion")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidReference):
        raise SkomirrorError(f"{workspace.results}: unreadable, so what the last mirror needs is unknown; "
                             "nothing was deleted (point --workspace at the mirror's workspace)") from None
    return {}


def _check_under(items: List[DeleteItem], destination: RegistryDestination, listing: Path) -> None:
    """As oc-mirror: every listed reference must be under DEST, so a list is never applied to another registry."""
    prefix = str(destination).rstrip("/") + "/"
    for index, item in enumerate(items):
        if not item.reference.startswith(prefix):
            raise SkomirrorError(f"{listing}: items[{index}].imageReference: {item.reference} is not under DEST "
                                 f"{destination}; nothing was deleted")


class Remover:
    def __init__(self, options: RunOptions, progress: Progress, warn: Callable[[str], None]):
        self.options, self.progress, self.warn = options, progress, warn
        self.workspace = Workspace(options.workspace)
        destination = parse_destination(options.destination)
        if not isinstance(destination, RegistryDestination):
            raise SkomirrorError(f"DEST {options.destination}: delete works on a registry (docker://...)")
        self.destination = destination
        if options.authfile is not None:
            check_authfile(options.authfile)
        settings = CopySettings(options.source_access, options.destination_access, options.authfile)
        self.runner = make_runner(settings, options.retry, options.stall_timeout, progress, options.skopeo_binary)
        self._lock = threading.Lock()

    def locked_remove(self, listing: Path) -> int:
        """One run at a time in the workspace, as for `run`: its results.json says what must be kept."""
        root = self.workspace.root
        locks = take([Place(root, f"workspace {root}", "give another --workspace")], me(root), self.progress.say)
        try:
            return self.remove(listing)
        finally:
            self.runner.children.stop_all()
            self.progress.finish()
            locks.release()

    def remove(self, listing: Path) -> int:
        items = read_list(listing)
        _check_under(items, self.destination, listing)
        self.workspace.prepare()
        needed = still_needed(self.workspace, self.destination, self.warn)
        removals = [Removal(item, self.workspace.log_path(index, item.destination_name, "delete"))
                    for index, item in enumerate(items, 1)]
        started, interrupted = time.monotonic(), False
        try:
            with signals_interrupt():
                self._delete_all(removals, needed)
        except KeyboardInterrupt:
            self.runner.children.stop_all()
            self.progress.finish()
            interrupted = True
            self.warn("interrupted: every skopeo process was stopped; rerun the same command to finish")
        self._report(removals, listing, time.monotonic() - started, interrupted)
        if interrupted:
            return EXIT_INTERRUPTED
        code = EXIT_OK
        for removal in removals:
            if removal.status == FAILED:
                code |= removal.item.kind.exit_code
        return code

    def _delete_all(self, removals: List[Removal], needed: Dict[Tuple[str, str], str]) -> None:
        queue = TaskQueue(removals)
        done: Set[Tuple[str, str]] = set()  # two tags on one digest are one delete

        def work(removal: Removal) -> None:
            try:
                self._delete_one(removal, needed, done)
            except Stopped:
                removal.status = NOT_DONE
            except SkopeoFailed as failed:
                removal.status, removal.failure = FAILED, failed.failure
            self.progress.advance(removal.progress_status)

        self.progress.start(DELETING, len(removals))
        WorkerPool(self.options.parallel_images, queue.next, work).run()
        self.progress.finish()

    def _delete_one(self, removal: Removal, needed: Dict[Tuple[str, str], str], done: Set[Tuple[str, str]]) -> None:
        item, runner, log = removal.item, self.runner, removal.log
        repository = item.destination.repository
        digest = item.digest
        if digest is None:  # a list written by oc-mirror: what the tag holds now
            digest = runner.manifest_digest(item.reference, True, log)
            note(log, f"no digest in the list: {item.reference} holds {digest or 'nothing'} now")
        removal.digest = digest
        if digest is None or runner.manifest_digest(f"{DOCKER_TRANSPORT}{repository}@{digest}", True, log) is None:
            removal.status = GONE
            return
        kept_for = needed.get((repository, digest))
        if kept_for:
            removal.status, removal.note = KEPT, f"the last mirror in {self.workspace.root} needs it ({kept_for})"
            note(log, f"kept: {removal.note}")
            return
        with self._lock:
            if (repository, digest) in done:
                removal.status = DELETED
                return
            done.add((repository, digest))
        args = runner.skopeo.delete_args(f"{DOCKER_TRANSPORT}{repository}@{digest}", runner.settings.destination,
                                         runner.settings.authfile)

        def attempt() -> None:
            removal.attempts += 1
            runner.run(args, log, f"delete attempt {removal.attempts}")

        try:
            runner.retry.call(attempt, runner.children.stopping)
        except SkopeoFailed as failed:
            if not failed.failure.not_found:
                raise
            removal.status = GONE  # someone else deleted it meanwhile
            return
        removal.status = DELETED

    def _report(self, removals: List[Removal], listing: Path, seconds: float, interrupted: bool) -> None:
        counts = {status: sum(r.status == status for r in removals) for status in (DELETED, KEPT, GONE, FAILED,
                                                                                    NOT_DONE)}
        document = {"run": {"destination": str(self.destination), "list": str(listing), "seconds": round(seconds, 3),
                            "interrupted": interrupted, "counts": counts},
                    "images": [{"origin": r.item.origin, "reference": r.item.reference, "digest": r.digest,
                                "status": r.status, "attempts": r.attempts, "log": str(r.log),
                                **({"note": r.note} if r.note else {}),
                                **({"error": r.failure.one_line} if r.failure else {})} for r in removals]}
        folder = self.workspace.root / DELETE_DIR
        folder.mkdir(mode=0o700, exist_ok=True)
        results = self.workspace.write(folder / "delete-results.json", json.dumps(document, indent=2) + "\n")
        lines = []
        for removal in removals:
            if removal.status == FAILED:
                lines.append(f"failed to delete {removal.item.reference}: {removal.failure.one_line} "
                             f"(log: {removal.log})")
            elif removal.status == KEPT:
                lines.append(f"kept {removal.item.reference}: {removal.note}")
        self.progress.summary(lines + [
            f"{len(removals)} listed: {counts[DELETED]} deleted, {counts[KEPT]} kept, {counts[GONE]} already gone, "
            f"{counts[FAILED]} failed; results in {results}. Blobs are freed by the registry's garbage collection "
            "(see README, Delete)."])


def remove_listed(options: RunOptions, listing: Path, progress: Progress, warn: Callable[[str], None]) -> int:
    with owner_only_files():
        return Remover(options, progress, warn).locked_remove(listing)
