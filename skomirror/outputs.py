"""What a run leaves behind: mapping.txt, missing.txt, results.json, the errors file and the summary."""

import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from skomirror.errors import EXIT_INTERRUPTED, EXIT_OK
from skomirror.records import ImageRecord, Status
from skomirror.execution.limiter import lowest_limits
from skomirror.plan import Plan
from skomirror.progress import format_bytes, format_duration, plural
from skomirror.signatures import summary_line as signatures_line
from skomirror.workspace import Workspace


@dataclass
class RunInfo:
    destination: str
    skopeo_version: str
    started: str
    mode: str = ""
    elapsed: float = 0.0
    dry_run: bool = False
    interrupted: bool = False
    warnings: List[str] = field(default_factory=list)
    rate_limits: List[dict] = field(default_factory=list)  # each change of a registry's concurrency
    signatures: Optional[dict] = None  # skomirror.signatures.count_signatures


def mapping_text(plan: Plan) -> str:
    return "".join(image.mapping_line + "\n" for image in plan.images)


def missing_text(records: Sequence[ImageRecord]) -> str:
    return "".join(record.image.mapping_line + "\n" for record in records if record.status == Status.PENDING)


def _record_json(record: ImageRecord) -> Dict:
    failure = record.failure
    return {
        "source": record.image.source_spec,
        "destination": record.image.destination_spec,
        "origin": record.image.origin,
        "signs": record.image.signs,
        "type": record.image.kind.group,
        "status": record.status,
        "digest": record.digest,
        "size": record.size,
        "attempts": record.attempts,
        "seconds": round(record.seconds, 3),
        "error": None if failure is None else {"kind": failure.kind.value, "reason": failure.label,
                                               "message": failure.message},
        "log": str(record.log),
    }


def results_text(records: Sequence[ImageRecord], info: RunInfo, plan: Plan) -> str:
    document = {
        "run": {
            "destination": info.destination,
            "mode": info.mode,
            "skopeo": info.skopeo_version,
            "started": info.started,
            "seconds": round(info.elapsed, 3),
            "dryRun": info.dry_run,
            "interrupted": info.interrupted,
            "counts": dict(_counts(records)),
            "blocked": [entry.image.origin for entry in plan.blocked],
            "warnings": info.warnings,
            "rateLimits": info.rate_limits,
            "signatures": info.signatures,
        },
        "images": [_record_json(record) for record in records],
    }
    return json.dumps(document, indent=2) + "\n"


def errors_text(records: Sequence[ImageRecord]) -> str:
    """oc-mirror's mirroring_errors format, one failed image per line."""
    return "".join(f"error mirroring image {record.image.origin} error: {record.failure.one_line}\n"
                   for record in records if record.status == Status.FAILED and record.failure)


def _counts(records: Sequence[ImageRecord]) -> Dict[str, int]:
    counts = {status: 0 for status in (Status.COPIED, Status.SKIPPED, Status.FAILED, Status.INTERRUPTED, Status.PENDING)}
    for record in records:
        counts[record.status] += 1
    return counts


def exit_code(records: Sequence[ImageRecord], interrupted: bool) -> int:
    """oc-mirror's bit mask over the families that lost an image; 130 after an interrupt."""
    if interrupted:
        return EXIT_INTERRUPTED
    code = EXIT_OK
    for record in records:
        if record.status == Status.FAILED:
            code |= record.image.kind.exit_code
    return code


def settled_line(record: ImageRecord) -> str:
    """One image as it ends, for --log-level debug."""
    attempts = f"{plural(record.attempts, 'attempt')}, " if record.attempts else ""
    line = f"{record.status.value} {record.image.origin} -> {record.image.destination} ({attempts}" \
           f"{format_duration(record.seconds)})"
    return line + (f": {record.failure.one_line} (log: {record.log})" if record.failure else "")


def summary_lines(records: Sequence[ImageRecord], info: RunInfo, workspace: Workspace,
                  plan: Optional[Plan] = None) -> List[str]:
    counts = _counts(records)
    moved: Dict[str, int] = {}  # each blob once, however many copied images share it
    for record in records:
        if record.status == Status.COPIED:
            moved.update(record.blobs or {})
    copied_bytes = sum(moved.values())
    rate = copied_bytes / info.elapsed if info.elapsed > 0 else 0
    head = (f"{plural(len(records), 'image')}: {counts[Status.COPIED]} copied, {counts[Status.SKIPPED]} skipped (already mirrored), "
            f"{counts[Status.FAILED]} failed")
    if counts[Status.INTERRUPTED] or counts[Status.PENDING]:
        head += f", {counts[Status.INTERRUPTED] + counts[Status.PENDING]} not finished"
    lines = [head, f"{format_bytes(copied_bytes)} copied in {format_duration(info.elapsed)} "
                   f"({format_bytes(rate)}/s)"]
    for registry, lowest in sorted(lowest_limits(info.rate_limits).items()):
        lines.append(f"{registry} asked to slow down (429/503): concurrent copies went down to {lowest}")
    if plan is not None and plan.blocked:
        lines.append(f"{plural(len(plan.blocked), 'image')} excluded by blockedImages")
    signatures = signatures_line(info.signatures)
    if signatures:
        lines.append(signatures)
    if counts[Status.COPIED] == 0 and counts[Status.SKIPPED] == len(records) and records:
        lines.append("nothing to copy: every image is already at the destination")
    failed = [record for record in records if record.status == Status.FAILED]
    if failed:
        lines.append("failed images:")
        for record in failed:
            lines.append(f"  {record.image.origin} -> {record.image.destination}: {record.failure.one_line}")
            lines.append(f"    log: {record.log}")
        lines.append(f"errors: {workspace.errors}")
    lines.append(f"results: {workspace.results}")
    return lines
