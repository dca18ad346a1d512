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
no-op rerun. So each source repository's tags are listed once per run (by
the first lookup in it; the others wait for it): a signature tag absent from
a complete list is unsigned with no request, one in it is HEADed for its
digest. When a list counts as complete: skomirror.registry.tags.
"""

from typing import Dict, List, Optional, Sequence

from skomirror.collectors.types import CollectedImage
from skomirror.imageref import ImageRef
from skomirror.naming import digest_tag
from skomirror.records import ImageRecord, Status
from skomirror.registry.tags import RepositoryTags
from skomirror.skopeo.processes import Stopped, note
from skomirror.skopeo.retry import SkopeoFailed
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.store import Store


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


def _lookup(record: ImageRecord, runner: SkopeoRunner, tags: RepositoryTags) -> List[CollectedImage]:
    found = []
    for signed in signed_digests(record):
        tag = signature_tag(signed)
        reference = f"{record.image.source.repository}:{tag}"
        source = record.image.source
        if tags.lacks(source.registry, source.path, tag, lambda line: note(record.log, line)):
            note(record.log, f"signature of {reference}: not in the tag list, unsigned")
            continue
        try:
            digest = runner.signature_digest(reference, record.log)
        except (SkopeoFailed, Stopped) as failed:  # counted as unsigned: a signature is never worth a failure
            note(record.log, f"signature lookup {reference} failed: {failed}; counted as unsigned")
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
        self.tags = RepositoryTags(runner.client)
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
