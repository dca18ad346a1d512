"""`skomirror describe file://DIR`: what each shipment in DIR holds, and whether it can be pushed as it is.

Read before anyone carries the disk in or runs disk to mirror: the images with their digests and sizes,
the parts, the shipments each builds on, and every part checked (skomirror.airgap.contents). Nothing is
written into DIR. A missing, truncated, corrupt or unsafe part makes the exit code 1, after the description.
"""

from __future__ import annotations  # the shipments' types are annotations here; skomirror.airgap comes with the command

from typing import TYPE_CHECKING, List

import click

from skomirror.cli_compat import OcMirrorCommand
from skomirror.commands.options import local_path, output_option
from skomirror.commands.printing import columns, emit
from skomirror.errors import EXIT_OK, SkomirrorError
from skomirror.progress import format_bytes, plural

if TYPE_CHECKING:
    from skomirror.airgap.contents import ImageState, ShipmentState


def _kind(image: ImageState) -> str:
    kind = str(image.entry.get("kind") or "additional").lower().replace("_", "-")
    return f"{kind} signature" if image.entry.get("signs") else kind


def _bases_text(state: ShipmentState) -> str:
    bases = state.shipment.based_on
    if not bases:
        return "builds on: nothing (it carries every blob its images need)"
    absent = [base for base in bases if base not in state.bases_here]
    many = len(bases) > 1
    text = f"builds on: shipment{'s' if many else ''} {', '.join(map(str, bases))} (blobs {'they' if many else 'it'} " \
           "carried are not shipped again)"
    if absent:
        text += f"; not in this directory: {', '.join(map(str, absent))}, which the receiving workspace must " \
                "have received already"
    return text


def shipment_lines(state: ShipmentState) -> List[str]:
    shipment = state.shipment
    problems = state.problems
    verdict = "every one present and intact" if not problems else f"{len(problems)} damaged"
    lines = [f"shipment {shipment.id}: {shipment.manifest_name}, made {shipment.created}",
             f"  {_bases_text(state)}",
             f"  parts: {len(shipment.parts)}, {format_bytes(state.size)}, {verdict}"]
    lines += ["    " + line for line in columns(
        (part.part.name, format_bytes(part.part.size), part.problem or "intact") for part in state.parts)]
    lines += [f"  blobs carried: {len(shipment.blobs)}", f"  images: {len(state.images)}"]
    rows = [("NAME", "DIGEST", "KIND", "SIZE", "CARRIED", "ORIGIN")]
    rows += [(image.entry.get("name"), image.entry.get("digest"), _kind(image), format_bytes(image.size),
              format_bytes(image.carried), image.entry.get("origin")) for image in state.images]
    lines += ["    " + line for line in columns(rows)]
    return lines


def text(directory: str, states: List[ShipmentState]) -> List[str]:
    lines: List[str] = []
    for state in states:
        lines += shipment_lines(state) + [""]
    damaged = sum(len(state.problems) for state in states)
    parts = sum(len(state.parts) for state in states)
    lines.append(f"{directory}: {plural(len(states), 'shipment')}, {plural(parts, 'part')}, "
                 f"{format_bytes(sum(state.size for state in states))}; " +
                 ("every part present and intact" if not damaged else f"{damaged} damaged: do not push it as it is"))
    return lines


def document(directory: str, states: List[ShipmentState]) -> dict:
    return {"directory": directory, "intact": not any(state.problems for state in states), "shipments": [{
        "id": state.shipment.id, "manifest": state.shipment.manifest_name, "created": state.shipment.created,
        "basedOn": state.shipment.based_on, "basedOnHere": state.bases_here, "bytes": state.size,
        "intact": not state.problems, "blobs": len(state.shipment.blobs),
        "parts": [{**part.part.to_json(), "intact": not part.problem, "problem": part.problem or None}
                  for part in state.parts],
        "images": [{**image.entry, "bytes": image.size, "bytesCarried": image.carried} for image in state.images],
    } for state in states]}


@click.command("describe", cls=OcMirrorCommand)
@click.argument("directory", metavar="file://DIR")
@output_option
def command(directory: str, output: str) -> int:
    """Describe the shipments in DIR before pushing them.

    For each shipment (mirror_shipment_*.json) in DIR: its parts (mirror_*.tar, each checked: present,
    size and sha256, tar headers), the shipments it builds on, and its images with their digests and
    sizes. Nothing is written into DIR.

    \b
    Exit codes: 0 every part present and intact; 1 a part is missing, truncated,
    corrupt or unsafe (after the description), or DIR holds no shipment.
    """
    path = local_path(directory)
    from skomirror.airgap.contents import describe_shipments
    states = describe_shipments(path)
    emit(output, document(str(path), states), text(str(path), states))
    problems = [f"shipment {state.shipment.id}: {problem}" for state in states for problem in state.problems]
    if problems:
        raise SkomirrorError(f"{path}: {'; '.join(problems)}")
    return EXIT_OK
