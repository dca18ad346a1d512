from pathlib import Path

from skomirror.collectors.types import ImageKind
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.naming import parse_destination
from skomirror.outputs import RunInfo, summary_lines
from skomirror.plan import make_plan
from skomirror.records import ImageFacts, ImageRecord, Status, Survey
from skomirror.signatures import count_signatures, signature_image, signature_tag, signed_digests, summary_line
from skomirror.workspace import Workspace
from tests.unit.conftest import planned

TOP, CHILD, SIG = "sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:" + "c" * 64


def record(source: str, status=Status.COPIED, **targets) -> ImageRecord:
    image = planned(source, "dst.io/mirror", ImageKind.RELEASE, **targets)
    return ImageRecord(image, Path("/ws/log"), survey=Survey(source_digest=TOP), status=status, digest=TOP)


def test_the_signature_tag_is_cosigns():
    assert signature_tag(TOP) == "sha256-" + "a" * 64 + ".sig"


def test_a_signature_lands_in_the_signed_images_destination_repository():
    signed = record("quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64", target_repo="openshift/release-images")
    image = signature_image(signed, TOP, SIG)
    assert (image.signs, image.kind, image.requires) == (TOP, ImageKind.RELEASE, (signed.image.source.pull_spec,))
    assert str(image.source) == f"quay.io/openshift-release-dev/ocp-release:{signature_tag(TOP)}@{SIG}"
    target = RegistryEndpoint(parse_destination("docker://dst.io/mirror"))
    (sig,) = make_plan([image], RegistryEndpoint(), target).images
    assert sig.destination_repository == signed.image.destination_repository
    assert sig.destination == f"dst.io/mirror/openshift/release-images:{signature_tag(TOP)}"
    assert sig.source_spec == f"docker://quay.io/openshift-release-dev/ocp-release@{SIG}"
    assert sig.signs == TOP


def test_platform_signatures_are_looked_up_only_when_the_survey_read_the_children():
    multi = record("src.io/a:1")
    multi.survey.source = ImageFacts(TOP, {}, {TOP: 300, CHILD: 500})
    assert signed_digests(multi) == [TOP, CHILD]
    skipped = record("src.io/b:1", Status.SKIPPED)
    skipped.survey = Survey(source_digest=None)
    assert signed_digests(skipped) == [TOP]  # the record's digest, from the destination
    assert signed_digests(ImageRecord(planned("src.io/c:1"), Path("/ws/log"))) == []


def test_counting_and_the_summary_line(tmp_path):
    signed, unsigned = record("src.io/a:1"), record("src.io/b:1")
    sig = ImageRecord(planned(str(signature_image(signed, TOP, SIG).source), "dst.io/mirror",
                              requires=(signed.image.source.pull_spec,), signs=TOP), Path("/ws/log"))
    counted = count_signatures([signed, unsigned, sig], None, removed=False)
    assert counted == {"removed": False, "signed": 1, "unsigned": ["src.io/b:1"]}
    lines = summary_lines([signed, unsigned, sig], RunInfo("docker://dst.io", "1.9.3", "now", signatures=counted),
                          Workspace(tmp_path))
    assert "signatures: 1 of 2 images signed; 1 unsigned (listed in results.json)" in lines
    assert summary_line({"removed": False, "signed": 2, "unsigned": []}) == "signatures: 2 of 2 images signed"
    assert summary_line(count_signatures([signed], None, removed=True)) == \
        "signatures: not mirrored (--remove-signatures)"
    assert summary_line(None) is None


def test_an_unsigned_image_costs_one_http_request_and_no_skopeo(tmp_path):
    from skomirror.registry.client import Answer
    from skomirror.skopeo.runner import SkopeoRunner

    asked = []

    class Client:
        def manifest(self, registry, repository, reference, on_destination, head, absent, note):
            asked.append((registry, repository, reference, on_destination, head, absent))
            return Answer(SIG if repository == "signed" else None)

    runner = SkopeoRunner(None, None, None, None, Client())  # no skopeo: calling it would fail
    assert runner.signature_digest(f"src.io/unsigned:{signature_tag(TOP)}", tmp_path / "log") is None
    assert runner.signature_digest(f"src.io/signed:{signature_tag(TOP)}", tmp_path / "log") == SIG
    assert asked[0] == ("src.io", "unsigned", signature_tag(TOP), False, True, (401, 403, 404))


def test_lookups_made_as_each_survey_ends_come_back_in_plan_order_and_collecting_asks_nothing(tmp_path):
    from skomirror.signatures import SignatureLookups

    class Runner:
        asked = []
        client = None  # no HTTP client: no tag lists, each signature tag asked for

        def signature_digest(self, reference, log):
            self.asked.append(reference)
            return SIG if reference.startswith(("src.io/a:", "src.io/c:")) else None

    a, b, c, failed = (record(f"src.io/{name}:1") for name in "abcd")
    failed.status = Status.FAILED
    for each in (a, b, c, failed):
        each.log = tmp_path / "log"
    lookups = SignatureLookups(Runner())
    for each in (c, b, failed, a):  # as the survey's workers finish them, in any order
        lookups(each)
    assert sorted(Runner.asked) == sorted(f"src.io/{name}:{signature_tag(TOP)}" for name in "abc")  # not the failed
    found = lookups.collect([a, b, c, failed])
    assert [image.source.path for image in found] == ["a", "c"]
    assert len(Runner.asked) == 3  # collecting asks nothing more
