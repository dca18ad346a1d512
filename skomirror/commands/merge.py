"""`skomirror merge WORKSPACE...`: the shards of one run (`run --shard K/N`) joined into the files of one run.

Into `--workspace`: mapping.txt in the plan's order, results.json (the shards' images, their runs under
`run.shards`), mirroring_errors.txt, and the cluster resources written once for everything the shards
mirrored, as an unsharded run writes them. For mirror to disk, `--shipments` gathers every shard's
shipments into one directory for one `--from`. The shards' workspaces are locked while they are read, so
a shard still running is named rather than half merged.
"""

from __future__ import annotations  # Joined is an annotation here; the reading comes with the command

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import click

from skomirror.cli_compat import OcMirrorCommand
from skomirror.cluster_resources import write_cluster_resources
from skomirror.errors import EXIT_ADDITIONAL, EXIT_HELM, EXIT_INTERRUPTED, EXIT_OK, EXIT_OPERATOR, EXIT_RELEASE, \
    SkomirrorError
from skomirror.locking import Place, me, take
from skomirror.progress import Progress, plural
from skomirror.workspace import Workspace

if TYPE_CHECKING:
    from skomirror.commands.merge_reading import Joined

STATUSES = ("copied", "skipped", "failed", "interrupted", "pending")
_EXIT_BITS = {"release": EXIT_RELEASE, "operator": EXIT_OPERATOR, "helm": EXIT_HELM}


def _signatures(runs: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    counted = [run.get("signatures") for run in runs if isinstance(run.get("signatures"), dict)]
    if not counted:
        return None
    if all(count.get("removed") for count in counted):
        return {"removed": True}
    return {"removed": False, "signed": sum(int(count.get("signed") or 0) for count in counted),
            "unsigned": [origin for count in counted for origin in count.get("unsigned") or []]}


def results_document(joined: Joined) -> Dict[str, Any]:
    from skomirror.commands.merge_reading import common
    runs = [shard.results["run"] for shard in joined.shards]
    images = joined.planned + joined.added
    destinations = [run.get("destination") for run in runs]
    warnings = list(dict.fromkeys(warning for run in runs for warning in run.get("warnings") or []))
    return {
        "run": {
            "destination": common(destinations) or destinations,
            "mode": runs[0].get("mode"),
            "skopeo": common([run.get("skopeo") for run in runs]) or runs[0].get("skopeo"),
            "started": min(str(run.get("started") or "") for run in runs),
            "seconds": max(float(run.get("seconds") or 0) for run in runs),
            "dryRun": any(run.get("dryRun") for run in runs),
            "interrupted": any(run.get("interrupted") for run in runs),
            "counts": {status: sum(image["status"] == status for image in images) for status in STATUSES},
            "blocked": runs[0].get("blocked") or [],
            "warnings": warnings,
            "rateLimits": [event for run in runs for event in run.get("rateLimits") or []],
            "signatures": _signatures(runs),
            "shards": [{"shard": shard.index, "workspace": str(shard.workspace), "started": run.get("started"),
                        "seconds": run.get("seconds"), "interrupted": run.get("interrupted"),
                        "counts": run.get("counts"), "bytes": shard.shard.get("bytes"),
                        "splitBlobs": shard.shard.get("splitBlobs"), "splitBytes": shard.shard.get("splitBytes")}
                       for shard, run in zip(joined.shards, runs)],
        },
        "images": images,
    }


def errors_text(images: List[Dict[str, Any]]) -> str:
    """oc-mirror's mirroring_errors format, as skomirror.outputs.errors_text writes it."""
    lines = []
    for image in images:
        error = image.get("error") if isinstance(image.get("error"), dict) else None
        if image["status"] == "failed" and error:
            reason = f"{error.get('reason')}: {error.get('message')}" if error.get("message") else error.get("reason")
            lines.append(f"error mirroring image {image['origin']} error: {reason}\n")
    return "".join(lines)


def _write_cluster_resources(joined: Joined, workspace: Workspace, say) -> None:
    from skomirror.commands.merge_reading import common, mirrored_images
    resources = [shard.shard.get("clusterResources") for shard in joined.shards]
    if any(not isinstance(resource, dict) for resource in resources):
        return  # mirror to disk, or dry runs: an unsharded run writes none either
    scope = common([bool(resource.get("repositoryScope")) for resource in resources])
    if scope is None:
        raise SkomirrorError("the shards ran with different --max-nested-paths: they are not shards of one run")
    templates: Dict[str, Optional[dict]] = {}
    signatures: Dict[str, bytes] = {}
    for shard, resource in zip(joined.shards, resources):
        templates.update(resource.get("templates") or {})
        try:
            signatures.update((digest, base64.b64decode(data, validate=True))
                              for digest, data in (resource.get("releaseSignatures") or {}).items())
        except (ValueError, TypeError, AttributeError):
            raise SkomirrorError(f"{shard.workspace / 'shard.json'}: key 'clusterResources.releaseSignatures' "
                                 "is not base64 per digest") from None
    written = write_cluster_resources(mirrored_images(joined), workspace.cluster_resources, scope, templates,
                                      signatures)
    if written:
        say(f"cluster resources: {len(written)} file(s) in {workspace.cluster_resources}")


def exit_code(joined: Joined) -> int:
    if any(shard.results["run"].get("interrupted") for shard in joined.shards):
        return EXIT_INTERRUPTED
    code = EXIT_OK
    for image in joined.planned + joined.added:
        if image["status"] == "failed":
            code |= _EXIT_BITS.get(image["type"], EXIT_ADDITIONAL)
    return code


def merge(workspaces: List[Path], out: Path, shipments: Optional[Path], say) -> int:
    from skomirror.commands.merge_reading import join, read_shard
    target = Workspace(out)
    places = [Place(target.root, f"workspace {target.root}", "give another --workspace")]
    places += [Place(path.absolute(), f"shard workspace {path.absolute()}", "wait for that shard to end")
               for path in workspaces]
    if shipments is not None:
        places.append(Place(shipments.absolute(), f"--shipments {shipments.absolute()}", "gather elsewhere"))
    if len({place.directory for place in places}) < len(places):
        raise SkomirrorError("--workspace, --shipments and the shards' workspaces must be different directories")
    locks = take(places, me(target.root), say)
    try:
        joined = join([read_shard(path.absolute()) for path in workspaces])
        directories = [Path(shard.shard["shipments"]) for shard in joined.shards if shard.shard.get("shipments")]
        if shipments is not None and not directories:
            raise SkomirrorError("--shipments: the shards wrote no shipments (they mirrored to a registry)")
        target.prepare()
        images = joined.planned + joined.added
        target.write(target.mapping, "".join(f"{image['source']}={image['destination']}\n"
                                             for image in joined.planned))
        target.write(target.results, json.dumps(results_document(joined), indent=2) + "\n")
        errors = errors_text(images)
        if errors:
            target.write(target.errors, errors)
        elif target.errors.exists():
            target.errors.unlink()
        _write_cluster_resources(joined, target, say)
        if shipments is not None:
            from skomirror.airgap.gathering import gather_shipments
            placed = gather_shipments(directories, shipments.absolute(), say)
            say(f"{plural(placed, 'shipment')} gathered into {shipments}: carry its mirror_* files and receive "
                f"them with one run --from file://{shipments.absolute()}")
        elif directories:
            say(f"the shards' shipments are in {', '.join(map(str, directories))}: gather them with --shipments DIR")
        counts = {status: sum(image["status"] == status for image in images) for status in STATUSES}
        say(f"merged {plural(len(joined.shards), 'shard')}: {plural(len(images), 'image')}: "
            f"{counts['copied']} copied, {counts['skipped']} skipped (already mirrored), {counts['failed']} failed"
            + (f", {counts['interrupted'] + counts['pending']} not finished"
               if counts["interrupted"] + counts["pending"] else ""))
        say(f"results: {target.results}")
        return exit_code(joined)
    finally:
        locks.release()


def _directory(value: str) -> Path:
    return Path(value[len("file://"):] if value.startswith("file://") else value)


@click.command("merge", cls=OcMirrorCommand)
@click.argument("workspaces", nargs=-1, required=True, metavar="WORKSPACE...")
@click.option("--workspace", default="skomirror-workspace", show_default=True, metavar="DIR",
              help="Where the merged mapping.txt, results.json, errors and cluster resources go.")
@click.option("--shipments", metavar="file://DIR",
              help="Mirror to disk: gather every shard's shipments into DIR, for one run --from file://DIR.")
def merge_command(workspaces, workspace: str, shipments: Optional[str]) -> int:
    """Join the workspaces of the shards of one run (run --shard K/N) into the files of one run.

    \b
      skomirror merge --workspace ws ws-0 ws-1 ws-2
      skomirror merge --workspace ws --shipments file:///data/carry ws-0 ws-1 ws-2

    \b
    Every shard must be there, of one plan. Exit codes as for run, over all
    shards' images: 0 all mirrored, 1 the shards cannot be merged, 2/4/8
    release/operator/additional images failed, 130 a shard was interrupted.
    """
    progress = Progress()
    from skomirror.run import owner_only_files
    with owner_only_files():
        return merge([_directory(path) for path in workspaces], _directory(workspace),
                     _directory(shipments) if shipments else None, progress.say)
