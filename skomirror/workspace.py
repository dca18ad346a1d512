"""The workspace: where a run leaves its mapping, results, errors and per-image logs.

Owner-only permissions throughout: logs name private registries and repositories.
"""

import os
import re
import shutil
import time
from pathlib import Path
from typing import List

from skomirror.errors import SkomirrorError
from skomirror.files import OWNER_ONLY, replace_file
from skomirror.naming import MirrorName

DIR_MODE = 0o700
FILE_MODE = OWNER_ONLY
RUN_ID = re.compile(r"\d{8}-\d{6}-\d+\Z")  # the name of a run's log directory: its start, then its pid


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


class Workspace:
    def __init__(self, root: Path):
        self.root = Path(root).absolute()
        self.run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        self.logs = self.root / "logs" / self.run_id

    mapping = property(lambda self: self.root / "mapping.txt")
    missing = property(lambda self: self.root / "missing.txt")
    results = property(lambda self: self.root / "results.json")
    report = property(lambda self: self.root / "report.html")  # the run drawn for people (skomirror.report_html)
    errors = property(lambda self: self.root / "mirroring_errors.txt")
    history = property(lambda self: self.root / "history")  # where versions before DEST/history kept it
    received = property(lambda self: self.root / "received")  # disk to mirror: the shipments received and pushed
    cluster_resources = property(lambda self: self.root / "cluster-resources")
    journal = property(lambda self: self.root / "journal.jsonl")  # one line per finished image, across runs
    operator_catalogs = property(lambda self: self.root / "operator-catalogs")  # pulled catalog images (a Store)
    catalog_configs = property(lambda self: self.root / "catalog-configs")  # their FBC, extracted once per digest

    def prepare(self) -> "Workspace":
        try:
            for directory in (self.root, self.root / "logs", self.logs):
                directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            probe = self.root / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise SkomirrorError(f"workspace {self.root} is not writable: {exc.strerror or exc}") from None
        os.chmod(self.root, DIR_MODE)
        return self

    def prune_logs(self, keep: int) -> List[Path]:
        """Remove the log directories of all but the newest `keep` runs, this one counted; returns those removed.

        Only directories named as skomirror names them are touched: logs/ may hold what a user put there.
        """
        runs = sorted((entry for entry in (self.root / "logs").iterdir()
                       if entry.is_dir() and not entry.is_symlink() and RUN_ID.match(entry.name)
                       and entry != self.logs), key=lambda entry: (entry.name[:15], entry.stat().st_mtime))
        removed = runs[:max(len(runs) - (keep - 1), 0)]
        for directory in removed:
            shutil.rmtree(directory, ignore_errors=True)
        return removed

    def log_path(self, index: int, name: MirrorName, phase: str = "") -> Path:
        prefix = f"{phase}-" if phase else ""
        return self.logs / f"{prefix}{index:04d}_{_safe(name.path)}_{_safe(name.tag)}.log"

    def write(self, path: Path, text: str) -> Path:
        """Replace a file atomically, so an interrupted run never leaves half a results.json."""
        return replace_file(path, text, mode=FILE_MODE)
