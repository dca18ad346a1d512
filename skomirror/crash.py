"""When skomirror itself breaks: one line for the user, the whole story in a file for the bug report."""

import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Optional

from skomirror import __version__
from skomirror.errors import EXIT_GENERIC, SkomirrorError


class Crashed(SkomirrorError):
    """An unexpected exception, already written to a crash log; printed as one line like any other error."""

    def __init__(self, error: BaseException, log: Optional[Path]):
        where = f"the traceback is in {log}" if log else "no crash log could be written"
        super().__init__(f"internal error ({type(error).__name__}: {_first_line(error)}); {where}; "
                         "please report it with that file", EXIT_GENERIC)
        self.log = log


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "no message"


def write_crash_log(directory: Optional[Path], error: BaseException) -> Optional[Path]:
    """The traceback, versions and command line in `directory` (else the temporary directory); None if neither."""
    text = (f"skomirror {__version__} crashed at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n"
            f"python {platform.python_version()} on {platform.platform()}\n"
            f"command: {' '.join(sys.argv)}\n\n"
            + "".join(traceback.format_exception(type(error), error, error.__traceback__)))
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for candidate in ([Path(directory)] if directory else []) + [Path(os.environ.get("TMPDIR", "/tmp"))]:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            path = candidate / name
            fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            return path
        except OSError:
            continue
    return None
