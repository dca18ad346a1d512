"""One skopeo call = build its command line, run it logged, classify its failure.

Manifests are read over HTTP first when a RegistryClient is given (much cheaper
than a process), from where skopeo would read them (registries.conf, see
skomirror.registry.registries_conf); whatever it cannot answer goes to
`skopeo inspect --raw`.
"""

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from skomirror.records import Failure, FailureKind
from skomirror.skopeo.failures import AUTH_FAILED, DENIED, STALLED, classify
from skomirror.imageref import ImageRef
from skomirror.manifests import digest_of
from skomirror.skopeo.outages import Outages
from skomirror.skopeo.processes import ChildProcesses, Completed, note
from skomirror.registry.client import Answer, RegistryClient, Unsupported
from skomirror.skopeo.retry import RetryPolicy, SkopeoFailed
from skomirror.skopeo.command import CopySettings, Skopeo


@dataclass
class SkopeoRunner:
    skopeo: Skopeo
    children: ChildProcesses
    settings: CopySettings
    retry: RetryPolicy
    client: Optional[RegistryClient] = None
    outages: Outages = field(default_factory=Outages)  # shared by every call of the run
    manifests: Dict[str, bytes] = field(default_factory=dict)  # by digest: immutable, read once per run

    def run(self, args: List[str], log: Path, label: str, capture_stdout: bool = False,
            tag: object = None) -> Completed:
        completed = self.children.run(self.skopeo.command(args), log, label, capture_stdout, tag,
                                      env=self.skopeo.environment)
        if completed.stalled and not completed.interrupted:
            raise SkopeoFailed(Failure(FailureKind.TRANSIENT, STALLED, f"no byte progress for "
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
        watch = self.outages.watch({ImageRef.parse(reference).registry: side})
        return policy.call(lambda: self.run(args, log, f"inspect {side}", capture_stdout=True).stdout,
                           self.children.stopping, functools.partial(note_retry, log), watch)

    def _over_http(self, reference: str, on_destination: bool, head: bool, log: Path,
                   absent: Tuple[int, ...] = (404,), purpose: str = "inspect") -> Optional[Answer]:
        """The answer of the HTTP client (no digest for an `absent` status), or None when skopeo should be asked."""
        if self.client is None:
            return None
        ref = ImageRef.parse(reference)
        side = "destination" if on_destination else "source"
        what = f"{purpose} {side} over http: {'HEAD' if head else 'GET'} {ref}"
        try:
            answer = self.client.manifest(ref.registry, ref.path, ref.digest or ref.tag, on_destination, head, absent,
                                          note=lambda line: note(log, line))
        except Unsupported as exc:
            note(log, f"{what}: {exc}; asking skopeo")
            return None
        where = f" (from {answer.origin}, as registries.conf says)" if answer.origin else ""
        note(log, f"{what}{where}: {answer.digest or 'not found'}")
        return answer

    def manifest_digest(self, reference: str, on_destination: bool, log: Path,
                        retry: Optional[RetryPolicy] = None) -> Optional[str]:
        """The digest under `reference`, or None when nothing is there."""
        answer = self._over_http(reference, on_destination, True, log)
        if answer is not None and (answer.digest or on_destination):
            return answer.digest
        try:
            return digest_of(self.inspect_raw(reference, on_destination, log, retry))
        except SkopeoFailed as failed:
            if failed.failure.not_found:
                return None
            raise

    def manifest(self, reference: str, log: Path, retry: Optional[RetryPolicy] = None) -> bytes:
        """A source manifest's bytes; a 404 over HTTP is left to skopeo, whose error says why."""
        digest = ImageRef.parse(reference).digest
        if digest and digest in self.manifests:
            return self.manifests[digest]
        answer = self._over_http(reference, False, False, log)
        raw = answer.body if answer is not None and answer.digest else self.inspect_raw(reference, False, log, retry)
        self.manifests[digest_of(raw)] = raw
        return raw

    def signature_digest(self, reference: str, log: Path) -> Optional[str]:
        """The digest of a source's cosign signature tag, or None when it has none we may read.

        Most images are unsigned, so a 404 (or a 401/403, as some registries answer) over HTTP is the
        answer, with no skopeo process; skopeo is asked only when the HTTP client cannot, and its
        "not found" or refusal means unsigned too. Other failures raise SkopeoFailed.
        """
        answer = self._over_http(reference, False, True, log, absent=(401, 403, 404), purpose="signature of")
        if answer is not None:
            return answer.digest
        try:
            return digest_of(self.inspect_raw(reference, False, log))
        except SkopeoFailed as failed:
            if failed.failure.not_found or failed.failure.label in (AUTH_FAILED, DENIED):
                return None
            raise

    def copy_once(self, source: str, destination: str, log: Path, attempt: int,
                  source_blobs: Optional[Path] = None, tag: object = None) -> str:
        """One `skopeo copy` attempt; returns the digest skopeo pushed."""
        digestfile = log.with_suffix(".digest")
        digestfile.unlink(missing_ok=True)
        args = self.skopeo.copy_args(source, destination, self.settings, digestfile, source_blobs)
        self.run(args, log, f"copy attempt {attempt}", tag=tag)
        try:
            return digestfile.read_text().strip()
        finally:
            digestfile.unlink(missing_ok=True)


def note_retry(log: Path, failure: Failure, delay: float, outage: str) -> None:
    """The per-image log's line before a retry, with the outage the failure belongs to."""
    note(log, f"{failure.kind.value} failure ({failure.label}); retrying in {delay:.1f}s"
              + (f"; {outage}" if outage else ""))
