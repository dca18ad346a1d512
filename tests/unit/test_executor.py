"""Retry decisions of a copy, driven through fake skopeo processes."""

from pathlib import Path

import pytest

from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.execution.executor import Executor
from skomirror.manifests import parse_manifest
from skomirror.platforms import select
from skomirror.records import ImageFacts, ImageRecord, Status, Survey
from skomirror.naming import RegistryDestination
from skomirror.skopeo.processes import ChildProcesses, tie_prefix
from skomirror.skopeo.retry import RetryPolicy
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.skopeo.command import CopySettings
from testkit.images import make_index, simple_image
from tests.unit.conftest import FAKE_SKOPEO, planned

DIGEST = "sha256:" + "c" * 64
TIED = tie_prefix() or []  # what starts each child: setsid and setpriv, where util-linux has them
COPY = TIED + [FAKE_SKOPEO, "--insecure-policy", "copy"]
INSPECT = TIED + [FAKE_SKOPEO, "--insecure-policy", "inspect", "--raw"]


def fatal(message: str) -> str:
    return f'time="2026-11-28T16:04:43Z" level=fatal msg="{message}"\n'


def write_digestfile(process):
    args = process.args
    Path(args[args.index("--digestfile") + 1]).write_text(DIGEST)


@pytest.fixture
def record(tmp_path) -> ImageRecord:
    return ImageRecord(planned("src.example/a/b:1"), tmp_path / "0001.log")


@pytest.fixture
def executor(old_skopeo) -> Executor:
    runner = SkopeoRunner(old_skopeo, ChildProcesses(), CopySettings(), RetryPolicy(retry_times=3, delay=0.001))
    target = RegistryEndpoint(RegistryDestination("dst.example"))
    return Executor(runner, target, parallel_images=2, on_done=lambda record: None)


def test_transient_failures_are_retried_until_success(fake_process, executor, record):
    fake_process.register(COPY + [fake_process.any()], stderr=fatal("received unexpected HTTP status: 503 "
                                                                    "Service Unavailable"), returncode=1)
    fake_process.register(COPY + [fake_process.any()], stderr=fatal("read: connection reset by peer"), returncode=1)
    fake_process.register(COPY + [fake_process.any()], stdout="Writing manifest to image destination\n",
                          callback=write_digestfile)
    executor.copy(record)
    assert (record.status, record.attempts, record.digest) == (Status.COPIED, 3, DIGEST)
    log = record.log.read_text()
    assert log.count("copy attempt") == 3 and "retrying in" in log and "Writing manifest" in log


def test_permanent_failure_is_not_retried(fake_process, executor, record):
    fake_process.register(COPY + [fake_process.any()],
                          stderr=fatal("reading manifest 1 in src.example/a/b: manifest unknown: manifest unknown"),
                          returncode=1)
    executor.copy(record)
    assert (record.status, record.attempts) == (Status.FAILED, 1)
    assert record.failure.label == "image not found"
    assert fake_process.call_count(COPY + [fake_process.any()]) == 1


def test_race_class_is_retried(fake_process, executor, record):
    fake_process.register(COPY + [fake_process.any()], returncode=1,
                          stderr=fatal("writing blob: failed to read from destination repository a/b: 500 "
                                       "(Internal Server Error)"))
    fake_process.register(COPY + [fake_process.any()], callback=write_digestfile)
    executor.copy(record)
    assert (record.status, record.attempts) == (Status.COPIED, 2)


def test_gives_up_after_retry_times(fake_process, executor, record):
    fake_process.register(COPY + [fake_process.any()], returncode=1, occurrences=10,
                          stderr=fatal("dial tcp 10.0.0.1:443: connect: connection refused"))
    executor.copy(record)
    assert (record.status, record.attempts) == (Status.FAILED, 4)  # 1 + --retry-times 3
    assert record.failure.label == "connection refused"


def test_an_interrupt_stops_retrying(fake_process, executor, record):
    def stop_during_attempt(process):
        executor.runner.children.stopping.set()

    fake_process.register(COPY + [fake_process.any()], returncode=1, callback=stop_during_attempt,
                          stderr=fatal("connection refused"))
    executor.copy(record)
    assert record.status == "interrupted" and record.attempts == 1


def manifest(layer: str) -> bytes:
    return (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:'
            + b"a" * 64 + b'","size":10},"layers":[{"digest":"sha256:' + layer.encode() * 64 + b'","size":100}]}')


def test_survey_skips_an_image_already_at_the_destination(fake_process, executor, record):
    raw = manifest("1")
    fake_process.register(INSPECT + ["docker://src.example/a/b:1"], stdout=raw)
    fake_process.register(INSPECT + ["docker://dst.example/a/b:1"], stdout=raw)
    executor.survey_one(record)
    assert record.status == Status.SKIPPED and record.size == 110 + len(raw)  # config, layer and the manifest


def test_survey_marks_a_changed_image_for_copy(fake_process, executor, record):
    fake_process.register(INSPECT + ["docker://src.example/a/b:1"], stdout=manifest("1"))
    fake_process.register(INSPECT + ["docker://dst.example/a/b:1"], stdout=manifest("2"))
    executor.survey_one(record)
    assert record.status == "pending" and record.survey.destination_digest != record.survey.source_digest


def test_survey_of_a_digest_source_checks_only_the_destination_when_mirrored(fake_process, executor, tmp_path):
    raw = manifest("3")
    from skomirror.manifests import digest_of
    record = ImageRecord(planned(f"src.example/a/b@{digest_of(raw)}", target_tag="x"), tmp_path / "d.log")
    fake_process.register(INSPECT + ["docker://dst.example/a/b:x"], stdout=raw)
    executor.survey_one(record)
    assert record.status == Status.SKIPPED
    assert fake_process.call_count(INSPECT + [fake_process.any()]) == 1


def test_survey_treats_manifest_unknown_at_destination_as_missing(fake_process, executor, record):
    fake_process.register(INSPECT + ["docker://src.example/a/b:1"], stdout=manifest("1"))
    fake_process.register(INSPECT + ["docker://dst.example/a/b:1"], returncode=1,
                          stderr=fatal("reading manifest 1 in dst.example/a/b: manifest unknown: manifest unknown"))
    executor.survey_one(record)
    assert record.status == "pending" and record.survey.destination_digest is None


def test_a_bundle_is_skipped_when_one_of_its_related_images_failed(fake_process, executor, tmp_path):
    related = ImageRecord(planned("src.example/ops/related@sha256:" + "1" * 64), tmp_path / "r.log", status=Status.FAILED)
    bundle = ImageRecord(planned("src.example/ops/bundle@sha256:" + "2" * 64), tmp_path / "b.log",
                         prerequisites=[related])
    executor.copy(bundle)
    assert bundle.status == Status.FAILED and bundle.attempts == 0
    assert bundle.failure.one_line.startswith("related image failed: skipping operator bundle src.example/ops/bundle")
    assert fake_process.call_count(COPY + [fake_process.any()]) == 0


@pytest.fixture
def default_executor(old_skopeo) -> Executor:
    """The command line's default policy (window, no count), with fixed short waits."""
    runner = SkopeoRunner(old_skopeo, ChildProcesses(), CopySettings(), RetryPolicy(delay=0.001))
    return Executor(runner, RegistryEndpoint(RegistryDestination("dst.example")), parallel_images=2,
                    on_done=lambda record: None)


@pytest.mark.parametrize("message, label", [
    ("reading manifest 1 in src.example/a/b: manifest unknown: manifest unknown", "image not found"),
    ("initializing source docker://src.example/a/b:1: reading manifest 1 in src.example/a/b: unauthorized: "
     "authentication required", "authentication failed"),
])
def test_with_default_flags_a_permanent_failure_still_fails_at_once(fake_process, default_executor, record,
                                                                     message, label):
    fake_process.register(COPY + [fake_process.any()], stderr=fatal(message), returncode=1, occurrences=5)
    default_executor.copy(record)
    assert (record.status, record.attempts, record.failure.label) == (Status.FAILED, 1, label)


def test_with_default_flags_an_outage_outlives_the_old_count_and_the_log_names_it(fake_process, default_executor,
                                                                                   record):
    refused = fatal('writing blob: Head \\"http://dst.example/v2/a/b/blobs/sha256:9f\\": dial tcp 10.0.0.2:443: '
                    'connect: connection refused')
    fake_process.register(COPY + [fake_process.any()], stderr=refused, returncode=1, occurrences=9)
    fake_process.register(COPY + [fake_process.any()], callback=write_digestfile)
    default_executor.copy(record)
    assert (record.status, record.attempts) == (Status.COPIED, 10)
    log = record.log.read_text()
    assert log.count("; destination dst.example not answering since ") == 9
    outages = default_executor.runner.outages
    assert outages.lines[0].startswith("destination dst.example not answering since ")
    assert outages.lines[1].startswith("destination dst.example answering again after ")


def test_the_survey_hands_every_record_to_then_and_surveys_only_those_not_surveyed(fake_process, executor, tmp_path):
    """The first image is surveyed alone before the rest (Run._check_destination): its signature lookup, `then`,
    still runs in the survey's workers, beside the others', and it is not surveyed twice."""
    first, *rest = (ImageRecord(planned(f"src.example/a/b:{tag}"), tmp_path / f"{tag}.log") for tag in range(5))
    for each in (first, *rest):
        fake_process.register(INSPECT + [f"docker://{each.image.source_spec[len('docker://'):]}"],
                              stdout=manifest("1"))
        fake_process.register(INSPECT + [each.image.destination_spec], stdout=manifest("2"))
    executor.survey_one(first)
    surveyed_first = first.survey
    handed, done = [], []
    executor.on_done = done.append
    executor.survey_all([first, *rest], then=handed.append)
    assert sorted(map(id, handed)) == sorted(map(id, [first, *rest]))  # each once, the first included
    assert first.survey is surveyed_first and sorted(map(id, done)) == sorted(map(id, rest))
    assert all(record.survey is not None for record in rest)


def test_a_run_stopped_before_the_copy_started_counts_no_attempt(fake_process, executor, record):
    executor.runner.children.stopping.set()
    executor.copy(record)
    assert (record.status, record.attempts, record.spans) == (Status.INTERRUPTED, 0, [])
    assert fake_process.call_count(COPY + [fake_process.any()]) == 0


@pytest.fixture
def sparse_record(record) -> ImageRecord:
    """An index of three platforms of which two are copied, each by its own skopeo."""
    index = make_index([simple_image("app", (100,), architecture=arch) for arch in ("amd64", "arm64", "s390x")])
    selection = select(parse_manifest(index.manifest.data), index.manifest.data, ["linux/amd64", "linux/arm64"],
                       "src.example/a/b:1")
    record.survey = Survey(source=ImageFacts(index.digest, {}, {}, selection), source_digest=index.digest)
    return record


@pytest.mark.parametrize("platforms_copied", [0, 1])
def test_a_copy_of_some_platforms_stopped_counts_an_attempt_only_if_one_of_its_copies_started(
        fake_process, monkeypatch, executor, sparse_record, platforms_copied):
    copy_once = executor.runner.copy_once

    def copy_then_stop(*args, **kwargs):  # the stop comes between two platforms' copies
        try:
            return copy_once(*args, **kwargs)
        finally:
            executor.runner.children.stopping.set()

    fake_process.register(COPY + [fake_process.any()], callback=write_digestfile, occurrences=2)
    if platforms_copied:
        monkeypatch.setattr(executor.runner, "copy_once", copy_then_stop)
    else:
        executor.runner.children.stopping.set()
    executor.copy(sparse_record)
    assert (sparse_record.status, sparse_record.attempts) == (Status.INTERRUPTED, platforms_copied)
    assert len(sparse_record.spans) == platforms_copied
    assert fake_process.call_count(COPY + [fake_process.any()]) == platforms_copied
    if platforms_copied:
        assert sparse_record.failure.message == "stopped after 1 platform of 2"
