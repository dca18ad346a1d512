"""What the destination already holds of the blobs the copies need.

A layer an earlier run mirrored (the base of last month's release, in the same
repository) is not fetched again: skopeo finds it and skips it. So the progress
total must not count it, and the scheduler must not make copies wait for a
fetch that will never happen. The cost: one request per destination repository,
then one HEAD per (repository, blob) only in repositories that exist, run
concurrently; a fresh destination costs one request per repository. What cannot
be asked counts as missing: the total may then be too large, never too small.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Set, Tuple, TypeVar

from skomirror.registry.client import RegistryClient, Unsupported

PresentBlobs = Dict[str, Set[str]]  # destination repository -> digests already there
T = TypeVar("T")


def _ask_all(questions: List[T], ask: Callable[[T], bool], threads: int, stopping: threading.Event) -> List[bool]:
    def answer(question: T) -> bool:
        if stopping.is_set():
            return False
        try:
            return ask(question)
        except (Unsupported, OSError, ValueError):
            return False

    pool = ThreadPoolExecutor(max(1, min(threads, len(questions))), thread_name_prefix="present")
    try:
        return list(pool.map(answer, questions))
    finally:  # on Ctrl-C, drop the questions not asked yet
        pool.shutdown(wait=True, cancel_futures=True)


def registry_blobs_present(needed: Dict[str, Set[str]], client: RegistryClient, threads: int,
                           stopping: threading.Event) -> PresentBlobs:
    """needed: repository as `registry/path` -> digests the copies into it carry."""
    def split(repository: str) -> Tuple[str, str]:
        registry, _, path = repository.partition("/")
        return registry, path

    repositories = sorted(needed)
    exists = _ask_all(repositories, lambda repository: client.repository_present(*split(repository)), threads,
                      stopping)
    pairs = [(repository, digest) for repository, there in zip(repositories, exists) if there
             for digest in sorted(needed[repository])]
    found = _ask_all(pairs, lambda pair: client.blob_present(*split(pair[0]), pair[1]), threads, stopping)
    present: PresentBlobs = {}
    for (repository, digest), there in zip(pairs, found):
        if there:
            present.setdefault(repository, set()).add(digest)
    return present
