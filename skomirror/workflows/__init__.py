"""The three workflows (one module each) and the choice between them, made once from DEST and --from.

Each workflow's module is imported once chosen: a mirror to mirror does not load the air-gap modules."""

from pathlib import Path

from skomirror.errors import SkomirrorError
from skomirror.naming import FILE_TRANSPORT, DiskDestination, parse_destination
from skomirror.workflows.base import Workflow
from skomirror.workflows.options import RunOptions
from skomirror.workspace import Workspace

__all__ = ["Workflow", "choose_workflow"]


def choose_workflow(options: RunOptions, workspace: Workspace) -> Workflow:
    destination = parse_destination(options.destination)
    if options.from_dir is None:
        if options.config is None:
            raise SkomirrorError("CONFIG is missing: skomirror run CONFIG DEST (only --from can do without it)")
        if isinstance(destination, DiskDestination):
            from skomirror.workflows.mirror_to_disk import MirrorToDisk
            return MirrorToDisk(options, workspace, destination)
        from skomirror.workflows.mirror_to_mirror import MirrorToMirror
        return MirrorToMirror(options, workspace, destination)
    if isinstance(destination, DiskDestination):
        raise SkomirrorError("--from pushes archives into a registry: DEST must be docker://, not file://")
    if options.shard is not None:
        raise SkomirrorError(f"--shard {options.shard}: shards split a mirror from the registries; receive the "
                             "shards' shipments with one --from run (gather them with skomirror merge --shipments)")
    from_dir = options.from_dir[len(FILE_TRANSPORT):] if options.from_dir.startswith(FILE_TRANSPORT) \
        else options.from_dir
    if not Path(from_dir).is_dir():
        raise SkomirrorError(f"--from {options.from_dir}: no such directory")
    from skomirror.workflows.disk_to_mirror import DiskToMirror
    return DiskToMirror(options, workspace, destination, Path(from_dir))
