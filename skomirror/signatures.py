"""Sigstore (cosign) signatures travel with the images they sign.

A cosign signature is the tag `sha256-<hex>.sig` in the signed image's own
repository (hex: the signed manifest's digest). It is looked up in the source
once the survey knows each digest, and copied as it is, as one more image into
the signed image's destination repository: `--preserve-digests` keeps it
byte-identical registry to registry and through the store. containers/image's
`use-sigstore-attachments` is not used: it rewrites the .sig manifest, cannot
go through an OCI layout, and fails on unsigned images when a registry answers
NAME_UNKNOWN, 401 or 403.

An unsigned image is counted, never failed. Disk to mirror finds the
signatures in the shipment (`signs` in images.json) and looks nothing up.

Most images are unsigned, and a HEAD answered 404 per image was most of a
no-op rerun. So each source repository's tags are listed once per run
(`tags/list?n=1000`, by the first lookup in it; the others wait for it): a
signature tag absent from a complete list is unsigned with no request, one in
it is HEADed for its digest. The distribution API pages a tag list with `n`
and `last` and announces a further page with a `Link: <...>; rel="next"`
header; quay.io serves at most 100 tags a page whatever `n` asks and sends
that Link (its big repositories, ocp-v4.0-art-dev, are never whole in one
page); distribution 2.8 ignores `n` and sends every tag. A list is used only
without that Link and with fewer than `n` tags; one of exactly a common page
size (100, 200...) only once the tags after its last are none, so a registry
cutting a page without a Link cannot hide a signature. A Link, a refusal (401,
403, 404 NAME_UNKNOWN), a timeout or mirrors in registries.conf mean a HEAD
per image in that repository, as before: one request more at worst (two for a
page-sized list), no failure.
"""

import threading
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from skomirror.collectors.types import CollectedImage
from skomirror.imageref import ImageRef
from skomirror.naming import digest_tag
from skomirror.records import ImageRecord, Status
from skomirror.registry.client import RegistryClient, Unsupported
from skomirror.skopeo.processes import Stopped, note
from skomirror.skopeo.retry import SkopeoFailed
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.store import Store

TAG_PAGE = 1000  # tags asked for in a source repository's one listing
PAGE_CAPS = frozenset((10, 20, 25, 50, 100, 200, 250, 500))  # page sizes registries cut lists at (quay.io: 100)


def signature_tag(digest: str) -> str:
    """cosign's tag for the signature of `digest`: `sha256-<hex>.sig`."""
    return f"{digest_tag(digest)}.sig"


def signed_digests(record: ImageRecord) -> List[str]:
    """The digests whose signatures are looked up: the image's, then each platform's when the survey read them."""
    survey = record.survey
    top = (survey.source_digest if survey else None) or record.digest
    if top is None:
        return []
    facts = survey.source if survey else None
    children = [digest for digest in facts.manifests if digest != top] if facts and len(facts.manifests) > 1 else []
    return [top] + children


def signature_image(record: ImageRecord, signed: str, digest: str) -> CollectedImage:
    """The signature (found at `digest`) of `signed`, bound for the signed image's destination repository."""
    image = record.image
    tag = signature_tag(signed)
    source = ImageRef(image.source.registry, image.source.path, tag, digest)
    return CollectedImage(source, f"{image.source.repository}:{tag}", image.kind, image.where,
                          target_repo=image.name.path, target_tag=tag, requires=(image.source.pull_spec,),
                          signs=signed)


class _Listing:
    def __init__(self):
        self.ready = threading.Event()
        self.tags: Optional[FrozenSet[str]] = None  # None: no complete list, each tag is asked for


class SourceTags:
    """Each source repository's tags, listed once per run by the first lookup in it while the others wait."""

    def __init__(self, client: Optional[RegistryClient]):
        self.client = client
        self._lock = threading.Lock()
        self._listings: Dict[Tuple[str, str], _Listing] = {}

    def lacks(self, source: ImageRef, tag: str, log) -> bool:
        """Whether `source`'s repository surely has no `tag`: its complete tag list, read in this run, lacks it."""
        if self.client is None:
            return False
        key = (source.registry, source.path)
        with self._lock:
            listing = self._listings.get(key)
            first = listing is None
            if first:
                listing = self._listings[key] = _Listing()
        if first:
            try:
                listing.tags = self._read(source, log)
            finally:
                listing.ready.set()
        else:
            listing.ready.wait()
        return listing.tags is not None and tag not in listing.tags

    def _read(self, source: ImageRef, log) -> Optional[FrozenSet[str]]:
        what = f"tag list of {source.repository}"
        try:
            tags = self.client.tag_page(source.registry, source.path, TAG_PAGE, lambda line: note(log, line))
        except Unsupported as exc:
            note(log, f"{what}: {exc}; each signature tag in it is asked for")
            return None
        if tags is None:
            note(log, f"{what}: more than one page; each signature tag in it is asked for")
            return None
        if len(tags) in PAGE_CAPS and not self._nothing_after(source, tags, log):
            note(log, f"{what}: {len(tags)} tags, perhaps a page cut short; each signature tag in it is asked for")
            return None
        note(log, f"{what}: {len(tags)} tags; a signature tag not among them is unsigned, with no request")
        return frozenset(tags)

    def _nothing_after(self, source: ImageRef, tags: List[str], log) -> bool:
        """A list of exactly a common page size may be a page cut short without a Link: asked for the tags after
        its last, a registry that pages answers none (whole) or more (cut); one that ignores `last` (distribution
        2.8) answers the same list, which it sends whole."""
        try:
            after = self.client.tag_page(source.registry, source.path, TAG_PAGE, lambda line: note(log, line),
                                         last=max(tags))
        except Unsupported:
            return False
        return after is not None and (not after or set(after) == set(tags))


def _lookup(record: ImageRecord, runner: SkopeoRunner, tags: SourceTags) -> List[CollectedImage]:
    found = []
    for signed in signed_digests(record):
        tag = signature_tag(signed)
        reference = f"{record.image.source.repository}:{tag}"
        if tags.lacks(record.image.source, tag, record.log):
            note(record.log, f"signature of {reference}: not in the tag list, unsigned")
            continue
        try:
            digest = runner.signature_digest(reference, record.log)
        except (SkopeoFailed, Stopped) as failed:  # counted as unsigned: a signature is never worth a failure
            with open(record.log, "a") as log:
                log.write(f"=== signature lookup {reference} failed: {failed}; counted as unsigned\n")
            continue
        if digest is not None:
            found.append(signature_image(record, signed, digest))
    return found


def _wanted(record: ImageRecord) -> bool:
    return record.image.source_store is None and not record.image.signs and record.status is not Status.FAILED


class SignatureLookups:
    """Lookups made as each image's survey ends, in the survey's own threads (called with the record, every
    record: Executor.survey_all hands it the first image too), so that they overlap the other images' surveys;
    `collect` returns what they found in plan order."""

    def __init__(self, runner: SkopeoRunner):
        self.runner = runner
        self.tags = SourceTags(runner.client)
        self._found: Dict[int, List[CollectedImage]] = {}  # id(record) -> its signatures; one key per thread

    def __call__(self, record: ImageRecord) -> None:
        if _wanted(record):
            self._found[id(record)] = _lookup(record, self.runner, self.tags)

    def collect(self, records: Sequence[ImageRecord]) -> List[CollectedImage]:
        return [image for record in records for image in self._found.get(id(record), [])]


def count_signatures(records: Sequence[ImageRecord], source_store: Optional[Store], removed: bool) -> Dict:
    """results.json's run.signatures: of the images read from the run's source, which a signature accompanies.

    source_store: the store the workflow reads from (disk to mirror), else None; images built locally
    (filtered catalogs, the graph image) are not counted in a run from the registries.
    """
    if removed:
        return {"removed": True}
    signed_specs = {spec for record in records if record.image.signs for spec in record.image.requires}
    counted = [record for record in records if not record.image.signs and record.image.source_store is source_store
               and record.status is not Status.FAILED]
    unsigned = [record.image.origin for record in counted if record.image.source.pull_spec not in signed_specs]
    return {"removed": False, "signed": len(counted) - len(unsigned), "unsigned": unsigned}


def summary_line(counted: Optional[Dict]) -> Optional[str]:
    """One line for the summary, or None when there is nothing to say."""
    if not counted:
        return None
    if counted.get("removed"):
        return "signatures: not mirrored (--remove-signatures)"
    unsigned = len(counted["unsigned"])
    total = counted["signed"] + unsigned
    if total == 0:
        return None
    line = f"signatures: {counted['signed']} of {total} images signed"
    return line + (f"; {unsigned} unsigned (listed in results.json)" if unsigned else "")
