"""Reading the workspaces of the shards of one run back, and checking that together they are the whole plan.

What each shard left: results.json (as any run) and shard.json (skomirror.sharding). Every key used is
checked, and a problem is one line naming the file and the key. Together the shards must be all N of
one cut of one plan: each shard once, the same plan fingerprint, and every planned image taken by
exactly one shard, or nothing is merged.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from skomirror.collectors.types import ImageKind
from skomirror.errors import SkomirrorError
from skomirror.imageref import ImageRef
from skomirror.sharding import FORMAT, SHARD_FILE

MAX_RECORD_BYTES = 256 * 1024 ** 2


@dataclass(frozen=True)
class MergedImage:
    """An image at the destination as the cluster resources need it (skomirror.cluster_resources.Mirrored)."""

    source: ImageRef
    destination: str
    origin: str
    kind: ImageKind


@dataclass
class ShardRun:
    workspace: Path
    shard: Dict[str, Any]  # shard.json
    results: Dict[str, Any]  # results.json

    @property
    def index(self) -> int:
        return self.shard["shard"]

    @property
    def name(self) -> str:
        return f"shard {self.shard['shard']}/{self.shard['shards']} ({self.workspace})"


@dataclass
class Joined:
    """The shards' images in the order of the whole plan, then what a shard added (cosign signatures)."""

    shards: List[ShardRun]
    planned: List[Dict[str, Any]]  # results.json entries, plan order
    kinds: List[ImageKind]  # of `planned`
    upstream: List[str]  # of `planned`
    added: List[Dict[str, Any]]


def _read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise SkomirrorError(f"{path}: missing: {what}")
    if path.stat().st_size > MAX_RECORD_BYTES:
        raise SkomirrorError(f"{path}: too large for a record skomirror writes")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SkomirrorError(f"{path}: not JSON ({str(exc)[:120]})") from None


def _key(data: Any, key: str, kind, path: Path, where: str = "") -> Any:
    name = f"{where}.{key}" if where else key
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SkomirrorError(f"{path}: key {name!r} is missing or not {getattr(kind, '__name__', kind)}")
    return value


def read_shard(workspace: Path) -> ShardRun:
    path = workspace / SHARD_FILE
    shard = _read_json(path, "not the workspace of a run with --shard, or that run has not finished")
    if not isinstance(shard, dict) or shard.get("format") != FORMAT:
        raise SkomirrorError(f"{path}: key 'format' is not {FORMAT}")
    for key in ("shard", "shards"):
        _key(shard, key, int, path)
    _key(shard, "plan", dict, path)
    _key(shard["plan"], "fingerprint", str, path, "plan")
    _key(shard["plan"], "images", int, path, "plan")
    _key(shard, "mode", str, path)
    for index, image in enumerate(_key(shard, "images", list, path)):
        for key, kind in (("index", int), ("destination", str), ("kind", str), ("upstream", str)):
            _key(image, key, kind, path, f"images[{index}]")
        if image["kind"] not in ImageKind.__members__:
            raise SkomirrorError(f"{path}: key 'images[{index}].kind': {image['kind']!r} is not an image kind")
        try:
            ImageRef.parse(image["upstream"])
        except ValueError as exc:
            raise SkomirrorError(f"{path}: key 'images[{index}].upstream': {exc}") from None
    results_path = workspace / "results.json"
    results = _read_json(results_path, "the shard did not finish: rerun it")
    _key(results, "run", dict, results_path)
    for index, image in enumerate(_key(results, "images", list, results_path)):
        for key in ("source", "destination", "origin", "status", "type"):
            _key(image, key, str, results_path, f"images[{index}]")
    return ShardRun(workspace, shard, results)


def _check_together(runs: List[ShardRun]) -> None:
    first = runs[0]
    count = first.shard["shards"]
    for run in runs[1:]:
        for key, what in (("shards", "number of shards"), ("mode", "workflow")):
            if run.shard[key] != first.shard[key]:
                raise SkomirrorError(f"{run.name} and {first.name} differ in their {what} "
                                     f"({run.shard[key]!r}, {first.shard[key]!r}): they are not shards of one run")
        if run.shard["plan"] != first.shard["plan"]:
            raise SkomirrorError(
                f"{run.name} planned {run.shard['plan']['images']} images and {first.name} "
                f"{first.shard['plan']['images']}, not the same set: what the ISC selects changed between their "
                "starts (a new release in a channel, a catalog updated); rerun every shard")
    seen: Dict[int, ShardRun] = {}
    for run in runs:
        if run.index in seen:
            raise SkomirrorError(f"{run.workspace} and {seen[run.index].workspace} are both shard "
                                 f"{run.index}/{count}")
        seen[run.index] = run
    missing = [index for index in range(count) if index not in seen]
    if missing:
        raise SkomirrorError(f"shard {missing[0]}/{count} is missing: give the workspaces of all {count} shards "
                             f"({len(missing)} missing)")


def join(runs: List[ShardRun]) -> Joined:
    """The whole plan from its shards, or one line saying why not."""
    _check_together(runs)
    runs = sorted(runs, key=lambda run: run.index)
    planned_count = runs[0].shard["plan"]["images"]
    by_index: Dict[int, tuple] = {}
    added: List[Dict[str, Any]] = []
    for run in runs:
        entries = {image["destination"]: image for image in run.results["images"]}
        taken = set()
        for image in run.shard["images"]:
            position = image["index"]
            if not 0 <= position < planned_count:
                raise SkomirrorError(f"{run.workspace / SHARD_FILE}: image {image['destination']} has the place "
                                     f"{position} in a plan of {planned_count}")
            if position in by_index:
                raise SkomirrorError(f"{image['destination']} was taken by {by_index[position][0].name} and by "
                                     f"{run.name}: the shards cut the plan differently; rerun every shard")
            entry = entries.get(image["destination"])
            if entry is None:
                raise SkomirrorError(f"{run.workspace / 'results.json'}: {image['destination']} is missing, "
                                     f"though {SHARD_FILE} lists it: the shard did not finish; rerun it")
            by_index[position] = (run, entry, ImageKind[image["kind"]], image["upstream"])
            taken.add(image["destination"])
        added += [entry for destination, entry in entries.items() if destination not in taken]
    missing = [position for position in range(planned_count) if position not in by_index]
    if missing:
        raise SkomirrorError(
            f"{len(missing)} of {planned_count} planned images were taken by no shard: the shards cut the plan "
            "differently (a source unreadable in one of them, a tag that moved between their starts), or a shard "
            "ran with --rerun-failed, which lists only what it retried; rerun those shards in full")
    ordered = [by_index[position] for position in range(planned_count)]
    return Joined(runs, [entry for _, entry, _, _ in ordered], [kind for _, _, kind, _ in ordered],
                  [upstream for _, _, _, upstream in ordered], added)


def mirrored_images(joined: Joined) -> List[MergedImage]:
    """What the cluster resources are written for: planned images now at the destination, in plan order."""
    return [MergedImage(ImageRef.parse(upstream), entry["destination"].split("://", 1)[-1], entry["origin"], kind)
            for entry, kind, upstream in zip(joined.planned, joined.kinds, joined.upstream)
            if entry["status"] in ("copied", "skipped") and not entry.get("signs")]


def common(values: List[Any]) -> Optional[Any]:
    """The one value every shard has, or None when they differ."""
    return values[0] if values and all(value == values[0] for value in values) else None
