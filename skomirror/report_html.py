"""report.html: one self-contained page (inline CSS and SVG, no script, no network) about a run.

What a user looks at to tune --parallel-images or to show why a run was slow:
a timeline of every copy attempt, the bytes moved per second, each registry's
concurrency limit over time (the AIMD changes), the slowest images and every
failure with its reason and log.
"""

import html
import time
from typing import Dict, List, Sequence, Tuple

from skomirror.progress import format_bytes, format_duration
from skomirror.records import ImageRecord, Status

WIDTH, ROW, LEFT = 900, 14, 8  # the timeline: pixels wide, per image, and its left margin
COLOURS = {Status.COPIED: "#2e7d32", Status.SKIPPED: "#9e9e9e", Status.FAILED: "#c62828",
           Status.INTERRUPTED: "#ef6c00", Status.PENDING: "#1565c0"}
_STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse}
td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.num{text-align:right}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 14px}
svg{background:#fafafa;border:1px solid #ddd}code{font-size:12px}"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _name(record: ImageRecord) -> str:
    return record.image.destination


def _timeline(records: Sequence[ImageRecord], start: float, end: float) -> str:
    span = max(end - start, 1e-3)
    x = lambda t: LEFT + (t - start) / span * (WIDTH - 2 * LEFT)  # noqa: E731
    copied = [r for r in records if r.spans]
    height = ROW * len(copied) + 24
    parts = [f'<svg width="{WIDTH}" height="{height}" role="img" aria-label="timeline of copies">']
    for row, record in enumerate(copied):
        y = 4 + row * ROW
        colour = COLOURS.get(record.status, "#000")
        for number, attempt in enumerate(record.spans, 1):
            left, right = x(attempt.start), max(x(attempt.end), x(attempt.start) + 1.5)
            fill = colour if attempt.ok or number == len(record.spans) else "#f9a825"  # an attempt that was retried
            parts.append(f'<rect x="{left:.1f}" y="{y}" width="{right - left:.1f}" height="{ROW - 3}" '
                         f'fill="{fill}"><title>{_e(_name(record))}: {_e(attempt.label)}, '
                         f'{attempt.end - attempt.start:.1f} s{"" if attempt.ok else ", failed"}</title></rect>')
            if number > 1:
                parts.append(f'<line x1="{left:.1f}" x2="{left:.1f}" y1="{y - 1}" y2="{y + ROW - 2}" '
                             f'stroke="#000" stroke-width="1"/>')
    parts.append(f'<text x="{LEFT}" y="{height - 6}" font-size="11">0 s</text>'
                 f'<text x="{WIDTH - LEFT}" y="{height - 6}" font-size="11" text-anchor="end">'
                 f'{_e(format_duration(span))}</text></svg>')
    return "".join(parts)


def _line_chart(points: List[Tuple[float, float]], start: float, end: float, label: str, unit) -> str:
    """A step line of (time, value); unit formats the highest value for the axis."""
    if not points:
        return f"<p>No {label} recorded.</p>"
    height, span = 120, max(end - start, 1e-3)
    top = max(value for _, value in points) or 1
    coordinates = " ".join(f"{LEFT + (t - start) / span * (WIDTH - 2 * LEFT):.1f},"
                           f"{height - 14 - value / top * (height - 28):.1f}" for t, value in points)
    return (f'<svg width="{WIDTH}" height="{height}" role="img" aria-label="{_e(label)}">'
            f'<polyline points="{coordinates}" fill="none" stroke="#1565c0" stroke-width="1.5"/>'
            f'<text x="{LEFT}" y="12" font-size="11">{_e(unit(top))}</text></svg>')


def _throughput(samples: Sequence[Tuple[float, int]]) -> List[Tuple[float, float]]:
    return [(t2, max(b2 - b1, 0) / max(t2 - t1, 1e-3)) for (t1, b1), (t2, b2) in zip(samples, samples[1:])]


def _limits(events: Sequence[dict], maximum: int, start: float, end: float) -> Dict[str, List[Tuple[float, float]]]:
    steps: Dict[str, List[Tuple[float, float]]] = {}
    for event in sorted(events, key=lambda e: e["time"]):
        series = steps.setdefault(event["registry"], [(start, float(maximum))])
        series += [(event["time"], series[-1][1]), (event["time"], float(event["limit"]))]
    for series in steps.values():
        series.append((end, series[-1][1]))
    return steps


def report_html(records: Sequence[ImageRecord], destination: str, samples: Sequence[Tuple[float, int]],
                limit_events: Sequence[dict], parallel_images: int) -> str:
    spans = [span for record in records for span in record.spans]
    start = min([span.start for span in spans] + [t for t, _ in samples] or [time.time()])
    end = max([span.end for span in spans] + [t for t, _ in samples] or [start + 1])
    counts: Dict[str, int] = {}
    for record in records:
        counts[record.status.value] = counts.get(record.status.value, 0) + 1
    legend = "".join(f'<span style="background:{colour}"></span>{status.value}' for status, colour in COLOURS.items())
    slowest = sorted((r for r in records if r.spans), key=lambda r: -r.seconds)[:10]
    failed = [r for r in records if r.failure is not None]
    limits = _limits(limit_events, parallel_images, start, end)
    rows = "".join(f"<tr><td>{_e(_name(r))}</td><td>{_e(r.status.value)}</td><td class=num>{r.attempts}</td>"
                   f"<td class=num>{r.seconds:.1f} s</td><td class=num>{_e(format_bytes(r.size or 0))}</td></tr>"
                   for r in records)
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>skomirror run report</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>skomirror run to {_e(destination)}</h1>",
        f"<p>{len(records)} images: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        + f"; copies over {_e(format_duration(end - start))}.</p>",
        f"<h2>Copies</h2><p class=legend>{legend}<span style='background:#f9a825'></span>attempt retried</p>",
        _timeline(records, start, end),
        "<h2>Throughput</h2>", _line_chart(_throughput(samples), start, end, "bytes per second",
                                          lambda v: f"{format_bytes(v)}/s"),
        f"<h2>Concurrency limit</h2><p>Copies allowed at once per registry (start: {parallel_images}); "
        "halved on 429/503, raised again after clean copies.</p>",
        "".join(f"<h3>{_e(registry)}</h3>" + _line_chart(series, start, end, f"limit of {registry}",
                                                       lambda v: f"{v:.0f} copies")
                for registry, series in sorted(limits.items())) or "<p>No registry asked to slow down.</p>",
        "<h2>Slowest images</h2><table><tr><th>image</th><th>seconds</th><th>attempts</th></tr>"
        + "".join(f"<tr><td>{_e(_name(r))}</td><td class=num>{r.seconds:.1f}</td><td class=num>{r.attempts}</td>"
                  f"</tr>" for r in slowest) + "</table>",
        "<h2>Failures</h2>" + ("<table><tr><th>image</th><th>reason</th><th>log</th></tr>" + "".join(
            f"<tr><td>{_e(_name(r))}</td><td>{_e(r.failure.one_line)}</td><td><code>{_e(r.log)}</code></td></tr>"
            for r in failed) + "</table>" if failed else "<p>None.</p>"),
        "<h2>Every image</h2><table id=images><tr><th>image</th><th>status</th><th>attempts</th><th>time</th>"
        f"<th>size</th></tr>{rows}</table></body></html>",
    ]
    return "\n".join(parts) + "\n"
