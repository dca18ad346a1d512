"""Copying some platforms of a multi-arch image with a skopeo that can copy one or all of them.

Each platform kept (skomirror.platforms) is copied on its own by digest, with
its digest preserved; then the target writes the index that stands for them.
Nothing of a platform left out is read from the source or written anywhere.
"""

from skomirror.endpoints.contract import Endpoint
from skomirror.records import Failure, ImageRecord, PlatformSelection
from skomirror.skopeo.processes import Stopped
from skomirror.skopeo.retry import SkopeoFailed
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.status import plural


def copy_some_platforms(record: ImageRecord, selection: PlatformSelection, source: Endpoint, target: Endpoint,
                        runner: SkopeoRunner) -> str:
    """One attempt; returns the digest the target holds under the image's name. Raises SkopeoFailed, and Stopped
    only when the run stopped before the attempt's first skopeo started."""
    image = record.image
    source_blobs = image.source_store.blobs if image.source_store else None
    for position, digest in enumerate(selection.kept):
        try:
            runner.copy_once(source.child_spec(image, digest), target.child_spec(image, digest), record.log,
                             record.attempts, source_blobs, tag=record)
        except Stopped:
            if position == 0:  # nothing of this attempt started (Stopped says so to the executor)
                raise
            raise SkopeoFailed(Failure.interrupted(f"stopped after {plural(position, 'platform')} of "
                                                   f"{len(selection.kept)}")) from None
    return target.put_index(image, selection, runner, record.log)
