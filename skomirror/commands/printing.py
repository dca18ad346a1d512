"""How the listing commands print: aligned columns for people (as oc-mirror's tabwriter), JSON for scripts."""

import json
from typing import Iterable, List, Sequence

import click

GAP = 2  # spaces between columns


def columns(rows: Iterable[Sequence[object]]) -> List[str]:
    """Rows (the first one usually a header) aligned into columns; the last column is never padded."""
    table = [["" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [max((len(row[i]) for row in table if i < len(row)), default=0)
              for i in range(max((len(row) for row in table), default=0))]
    return [("" if not row else
             "".join(cell.ljust(widths[i] + GAP) for i, cell in enumerate(row[:-1])) + row[-1]).rstrip()
            for row in table]


def emit(output: str, document: object, lines: Iterable[str]) -> None:
    """Print `document` as JSON, or the text `lines`, on stdout."""
    if output == "json":
        click.echo(json.dumps(document, indent=2))
    else:
        for line in lines:
            click.echo(line)
