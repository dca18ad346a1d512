"""What a run knows about one image: its status, its failure, what the survey found, and the record itself.

A leaf: it imports nothing from the project, so every stage (executor, meter,
journal, outputs, the air gap) can use it without tying itself to another.
"""

import enum
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Dict, Generic, List, NamedTuple, Optional, Tuple, TypeVar


class Status(str, enum.Enum):
    """Where an image stands; the values are what results.json and the journal write."""

    PENDING = "pending"  # not finished: not surveyed yet, or surveyed and left to copy
    COPIED = "copied"
    SKIPPED = "skipped"  # already at the destination with the same digest
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # stopped by the user or by skomirror itself

    @property
    def mirrored(self) -> bool:
        """At the destination now, whether this run copied it or found it there."""
        return self in (Status.COPIED, Status.SKIPPED)


class FailureKind(enum.Enum):
    TRANSIENT = "transient"  # network, 5xx, 429: retry with backoff
    RACE = "race"  # a blob race in the destination repository: retry once the competing copy is done
    PERMANENT = "permanent"  # retrying cannot help: not found, auth, TLS, bad reference
    INTERRUPTED = "interrupted"  # skomirror stopped the copy itself


NOT_FOUND = "image not found"  # the label of a failure that says nothing is there (see skomirror.skopeo.failures)


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    label: str  # short and stable, from the failure table
    message: str  # what skopeo or the registry said, on one line

    @classmethod
    def interrupted(cls, message: str = "") -> "Failure":
        """Stopped by skomirror (Ctrl-C, a signal, a release that failed): one label wherever it is said."""
        return cls(FailureKind.INTERRUPTED, FailureKind.INTERRUPTED.value, message)

    @property
    def retryable(self) -> bool:
        return self.kind in (FailureKind.TRANSIENT, FailureKind.RACE)

    @property
    def not_found(self) -> bool:
        return self.label == NOT_FOUND

    @property
    def one_line(self) -> str:
        return f"{self.label}: {self.message}" if self.message else self.label


Blobs = Optional[Dict[str, int]]  # digest -> size of everything a copy may write; None when unknown


@dataclass(frozen=True)
class PlatformSelection:
    """Some platforms of a multi-arch image (an ISC's `platforms`); built by skomirror.platforms.select."""

    index_digest: str
    index: bytes  # the source's index as it is: sparse once only `kept` are copied
    media_type: str
    kept: Tuple[str, ...]  # digests of the children copied
    dropped: Tuple[str, ...]  # platforms of the children not copied, for people
    missing: Tuple[str, ...]  # wanted platforms the index does not have
    rewritten: bytes  # the index listing only `kept`, for a registry that refuses a sparse one
    rewritten_digest: str


@dataclass(frozen=True)
class ImageFacts:
    """What copying one image (every platform of it) moves; built by skomirror.manifests.image_facts."""

    digest: str  # of the top manifest (an index for a multi-arch image)
    blobs: Dict[str, Optional[int]]  # every config and layer of every platform copied -> size
    manifests: Dict[str, int]  # the manifest and its per-platform children copied -> size
    selection: Optional[PlatformSelection] = None  # only some platforms are copied

    @property
    def digests_standing_for_it(self) -> Tuple[str, ...]:
        """What a destination may hold for this image: its digest, or the index rewritten to its platforms."""
        return (self.digest, self.selection.rewritten_digest) if self.selection else (self.digest,)

    @property
    def size(self) -> Optional[int]:
        """Bytes a copy moves at most, or None when a size is unknown (schema 1)."""
        if any(size is None for size in self.blobs.values()):
            return None
        return sum(self.blobs.values()) + sum(self.manifests.values())

    @cached_property  # read on every scheduler pick and meter sample; frozen is fine, it writes __dict__ directly
    def written(self) -> Dict[str, int]:
        """Everything a copy may write (blobs, unknown sizes as 0, and manifests) -> size."""
        return {**{digest: size or 0 for digest, size in self.blobs.items()}, **self.manifests}


@dataclass
class Survey:
    """What the survey found at both ends before any copy."""

    source: Optional[ImageFacts] = None
    source_digest: Optional[str] = None
    destination_digest: Optional[str] = None
    failure: Optional[Failure] = None
    failed_on_destination: bool = False

    @property
    def up_to_date(self) -> bool:
        if self.destination_digest is None:
            return False
        if self.source is not None:
            return self.destination_digest in self.source.digests_standing_for_it
        return self.destination_digest == self.source_digest


@dataclass(frozen=True)
class Span:
    """One skopeo attempt of an image, in wall-clock seconds since the epoch: the run report draws them."""

    start: float
    end: float
    label: str
    ok: bool


class FetchResult(NamedTuple):
    """What a collector gets back for an image it asked to have pulled (a catalog, a payload)."""

    digest: Optional[str]  # None when it could not be pulled
    error: str  # why not; empty when pulled


ImageT = TypeVar("ImageT")


@dataclass(eq=False)  # a mutable record: identity is what counts (it keys the running processes)
class ImageRecord(Generic[ImageT]):
    """Everything known about one planned image during and after the run.

    Generic in the planned image (a skomirror.plan.PlannedImage) only so that this
    module names no other module of the project.
    """

    image: ImageT
    log: Path
    survey: Optional[Survey] = None
    status: Status = Status.PENDING
    digest: Optional[str] = None
    attempts: int = 0
    seconds: float = 0.0
    failure: Optional[Failure] = None
    copied: Optional[ImageFacts] = None  # what the copy wrote, read again when the source moved after the survey
    prerequisites: List["ImageRecord[ImageT]"] = field(default_factory=list)  # must be mirrored before this one
    spans: List[Span] = field(default_factory=list)  # each copy attempt, for the run report

    @property
    def facts(self) -> Optional[ImageFacts]:
        """What the survey learned of the source; None when it could not tell (then blobs are unknown too)."""
        return self.survey.source if self.survey else None

    @property
    def landed(self) -> Optional[ImageFacts]:
        """What is at the destination now: the survey's facts unless the copy wrote another digest (a tag that
        moved between the survey and the copy), then what was read of that digest; None when unknown."""
        if self.copied is not None:
            return self.copied
        facts = self.facts
        return facts if facts is not None and self.digest in (None, facts.digest) else None

    @property
    def size(self) -> Optional[int]:
        facts = self.copied or self.facts
        return facts.size if facts else None

    @property
    def blobs(self) -> Blobs:
        """Everything the copy may write (blobs and manifests) with sizes; None when the survey could not tell."""
        facts = self.facts
        return facts.written if facts is not None else None

    def fail(self, failure: Failure) -> None:
        self.failure = failure
        self.status = Status.INTERRUPTED if failure.kind is FailureKind.INTERRUPTED else Status.FAILED

    def fetch_result(self) -> FetchResult:
        if self.status.mirrored:
            return FetchResult(self.digest, "")
        return FetchResult(None, self.failure.one_line if self.failure else "interrupted")
