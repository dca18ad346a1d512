"""The bar and the lines under it on a terminal, drawn by tqdm: the bar at position 0, each line under it
a tqdm line at position 1..k (leave=False), cleared when what it showed has ended.

Every line comes fitted to one less than the terminal's width (skomirror.status), so none wraps and tqdm
never has to cut one. Each line is written as "\\r text, erase to the end of the line" instead of tqdm's
padding with spaces, which would wrap after the terminal got narrower. When it did get narrower, a
terminal that reflows (tmux, VTE, Konsole) has spread the bar's line over more rows: those rows and all
below are erased before the redraw, so a resize leaves no stale line behind.
"""

import os
import shutil
from typing import Callable, List, Optional, TextIO

from tqdm import tqdm

from skomirror.status import Fitted, escaped

CSI = "\x1b["
DEFAULT_COLUMNS, DEFAULT_ROWS = 80, 24
MOST_BELOW = 4  # lines under the bar, at most (fewer in a short terminal)
STEPS = 10_000  # the bar's resolution: tqdm is given a fraction, not bytes or images


def size_of(stream: TextIO) -> os.terminal_size:
    try:
        return os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size((DEFAULT_COLUMNS, DEFAULT_ROWS))


class _Line(tqdm):
    """A tqdm line that erases what was there instead of padding it with spaces."""

    @staticmethod
    def status_printer(file):
        def print_status(text):
            file.write("\r" + text + CSI + "K")
            file.flush()

        return print_status


class TerminalLines:
    """Not thread-safe on its own: skomirror.progress draws under its screen lock."""

    def __init__(self, stream: TextIO, columns: Optional[Callable[[], int]] = None):
        self.stream = stream
        self.columns = columns or (lambda: size_of(stream).columns or DEFAULT_COLUMNS)
        self._bar: Optional[tqdm] = None
        self._below: List[tqdm] = []  # position 1, 2, ...
        self._drawn_len = 0  # the bar's line as last drawn: the cursor is at its end
        self._drawn_at = 0  # the columns it was drawn at

    def width(self) -> int:
        """The room for a line: one less than the terminal, so the cursor never wraps."""
        return max(self.columns() - 1, 1)

    def room_below(self) -> int:
        return max(min(MOST_BELOW, (size_of(self.stream).lines or DEFAULT_ROWS) - 2), 0)

    def _line(self, position: int, bar_format: str, leave: bool) -> tqdm:
        return _Line(total=STEPS, file=self.stream, position=position, leave=leave, bar_format=bar_format,
                     ncols=self.width(), dynamic_ncols=False, mininterval=3600, maxinterval=3600)

    def _after_resize(self, columns: int) -> None:
        """Narrower than at the last drawing: up to the bar's first row, then erase to the end of the screen."""
        if self._drawn_at and columns < self._drawn_at:
            rows = max(1, -(-self._drawn_len // columns))
            self.stream.write("\r" + (f"{CSI}{rows - 1}A" if rows > 1 else "") + f"{CSI}J")
            self.stream.flush()
        self._drawn_at = columns

    def draw(self, bar: Fitted, below: List[str]) -> None:
        """The bar's line and the lines under it; below's lines past what is shown now are cleared."""
        columns = self.columns()
        self._after_resize(columns)
        if self._bar is None:
            self._bar = self._line(0, bar.bar_format(), leave=True)
        while len(self._below) > len(below):  # what ended: its line cleared (leave=False)
            self._below.pop().close()
        for index, text in enumerate(below):
            if index == len(self._below):
                self._below.append(self._line(index + 1, escaped(text), leave=False))
            self._shown(self._below[index], escaped(text), 0)
        self._shown(self._bar, bar.bar_format(), bar.fraction)
        self._drawn_len = len(bar.text())

    def _shown(self, line: tqdm, bar_format: str, fraction: float) -> None:
        line.bar_format, line.ncols = bar_format, self.width()
        line.n = int(round(fraction * STEPS))
        line.refresh()

    def write_above(self, message: str) -> None:
        """A line of ordinary output; tqdm takes the lines away, writes it, and draws them again below it."""
        self._after_resize(self.columns())
        tqdm.write(message, file=self.stream)
        if self._bar is not None:  # drawn last, so the cursor ends the bar's line again
            self._bar.refresh()

    def close(self, last: Fitted) -> None:
        """Clear the lines under the bar and leave the bar's `last` line on the screen as ordinary output."""
        self._after_resize(self.columns())
        for line in reversed(self._below):
            line.close()
        self._below = []
        if self._bar is not None:
            self._bar.bar_format, self._bar.ncols = last.bar_format(), self.width()
            self._bar.n = int(round(last.fraction * STEPS))
            self._bar.close()
        else:
            self.stream.write(last.text() + "\n")
            self.stream.flush()
        self._bar, self._drawn_at, self._drawn_len = None, 0, 0
