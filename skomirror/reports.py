"""What a dry run prints: the images to copy with their sizes, and what each catalog selected."""

from typing import TYPE_CHECKING, Callable, List, Optional

from skomirror.collectors import Collected
from skomirror.records import ImageRecord, Status
from skomirror.execution.meter import ByteMeter
from skomirror.outputs import missing_text
from skomirror.progress import format_bytes
from skomirror.workspace import Workspace

if TYPE_CHECKING:
    from skomirror.collectors.operators import CatalogReport


def total_size(records: List[ImageRecord]) -> Optional[int]:
    """Bytes to copy, or None when some image's size is unknown.

    Counted as the real run's meter counts them, each shared blob once, so the
    dry run does not promise more than the run moves (the run also leaves out
    blobs the destination holds, which a dry run does not ask for).
    """
    if any(record.size is None for record in records):
        return None
    return ByteMeter(records, lambda record: None).total


def catalog_lines(report: "CatalogReport") -> List[str]:
    lines = [f"catalog {report.catalog} ({report.digest}): {report.bundles} bundles, {report.related_images} "
             f"related images{'' if report.rebuilt else ', copied unfiltered'}"]
    for package, channels in sorted(report.channels.items()):
        lines.append(f"  package {package}")
        for channel, bundles in sorted(channels.items()):
            lines.append(f"    channel {channel}: {', '.join(bundles)}")
    return lines


def dry_run_report(records: List[ImageRecord], collected: Collected, workspace: Workspace,
                   say: Callable[[str], None]) -> None:
    workspace.write(workspace.missing, missing_text(records))
    for release in collected.releases:
        say(f"releases ({release.arch}): {', '.join(release.versions)}")
    for report in collected.catalogs:
        for line in catalog_lines(report):
            say(line)
    missing = [record for record in records if record.status == Status.PENDING]
    say(f"dry run: {len(records)} images planned, {len(missing)} to copy ({format_bytes(total_size(missing))}), "
        f"{sum(r.status == Status.SKIPPED for r in records)} already at the destination, "
        f"{sum(r.status == Status.FAILED for r in records)} unreadable")
    for record in missing:
        say(f"  {record.image.source} -> {record.image.destination} ({format_bytes(record.size)})")
    for record in records:
        if record.status == Status.FAILED:
            say(f"  cannot read {record.image.origin}: {record.failure.one_line}")
    say(f"mapping: {workspace.mapping}")
    say(f"missing: {workspace.missing}")
