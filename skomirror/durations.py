"""Durations as oc-mirror's flags take them (Go's `10s`, `2m`, `1h30m`), or a plain number of seconds.

The one reader of a time on the command line: `--retry-delay 10s` and `--retry-delay 10` mean the
same in every command, and every default in --help is written as oc-mirror writes one.
"""

import re

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_PART = re.compile(rf"({_NUMBER})(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds; raises ValueError with a line saying what to write."""
    value = str(text).strip()
    if re.fullmatch(_NUMBER, value):
        return float(value)
    parts = _PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90 (seconds), 90s, 10m or 1h30m")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def duration_text(seconds: float) -> str:
    """A duration as Go writes one, without its zero parts: 600 -> 10m, 90 -> 1m30s, 5400 -> 1h30m."""
    if seconds and seconds == int(seconds) and seconds >= 60:
        hours, rest = divmod(int(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        return "".join(f"{count}{unit}" for count, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if count)
    return f"{seconds:g}s"
