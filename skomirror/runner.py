"""One skopeo call = build its command line, run it logged, classify its failure."""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from skomirror.failures import STALLED, Failure, Kind, classify
from skomirror.processes import ChildProcesses, Completed
from skomirror.retry import RetryPolicy, SkopeoFailed
from skomirror.skopeo import CopySettings, Skopeo


@dataclass
class SkopeoRunner:
    skopeo: Skopeo
    children: ChildProcesses
    settings: CopySettings
    retry: RetryPolicy

    def run(self, args: List[str], log: Path, label: str, capture_stdout: bool = False) -> Completed:
        completed = self.children.run(self.skopeo.command(args), log, label, capture_stdout)
        if completed.stalled and not completed.interrupted:
            raise SkopeoFailed(Failure(Kind.TRANSIENT, STALLED, f"no byte progress for "
                                                                f"{self.children.stall_timeout:g}s; skopeo was stopped"))
        if completed.returncode != 0 or completed.interrupted:
            raise SkopeoFailed(classify(completed.output, completed.returncode, completed.interrupted))
        return completed

    def inspect_raw(self, reference: str, on_destination: bool, log: Path,
                    retry: Optional[RetryPolicy] = None) -> bytes:
        """The raw manifest of `docker://reference`, retried on transient failures."""
        access = self.settings.destination if on_destination else self.settings.source
        args = self.skopeo.inspect_raw_args(reference, access, self.settings.authfile)
        side = "destination" if on_destination else "source"
        policy = retry or self.retry
        return policy.call(lambda: self.run(args, log, f"inspect {side}", capture_stdout=True).stdout,
                           self.children.stopping)

    def copy_once(self, source: str, destination: str, log: Path, attempt: int,
                  source_blobs: Optional[Path] = None) -> str:
        """One `skopeo copy` attempt; returns the digest skopeo pushed."""
        digestfile = log.with_suffix(".digest")
        digestfile.unlink(missing_ok=True)
        args = self.skopeo.copy_args(source, destination, self.settings, digestfile, source_blobs)
        self.run(args, log, f"copy attempt {attempt}")
        try:
            return digestfile.read_text().strip()
        finally:
            digestfile.unlink(missing_ok=True)
