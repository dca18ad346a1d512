"""The classification table against stderr lines captured from real skopeo runs.

Lines marked 1.9.3 were captured from Debian 12's skopeo with stderr not a TTY
(logfmt), against docker-registry 2.8 or a fault-injecting fake registry.
data/skopeo-outage-stderr.txt holds what skopeo printed when registries went away
under it (scripts/provoke_outages.py provoked them), each line under its scenario.
"""

from pathlib import Path
from typing import List, Tuple

import pytest

from skomirror.records import FailureKind
from skomirror.skopeo.failures import ANSWERING_ERRORS, NOT_ANSWERING, RATE_LIMITED, RULES, classify, down_as, \
    error_message

OUTAGE_LINES = Path(__file__).parent / "data" / "skopeo-outage-stderr.txt"


def outage_lines() -> List[Tuple[str, str]]:
    """(scenario, stderr line) for every line of the outage capture."""
    rows, scenario = [], ""
    for line in OUTAGE_LINES.read_text().splitlines():
        if line.startswith("# "):
            scenario = line[2:]
        elif line.strip() and not line.startswith("##"):
            rows.append((scenario, line + "\n"))
    return rows


def fatal(message: str) -> str:
    escaped = message.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'time="2026-11-28T16:04:43Z" level=fatal msg="{escaped}"\n'


CASES = [
    # permanent: retrying cannot help
    # skopeo 1.9.3 delete against docker-registry 2.8 with storage.delete.enabled false, and of a deleted manifest
    ('Failed to delete /v2/a/b/manifests/sha256:c083ff6cf74ef1999fc3da20ed3d865130212b8db26488f685b148b82c149d1f: '
     '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}\n (405 Method Not Allowed)',
     FailureKind.PERMANENT, "registry does not allow deletes"),
    ("Unable to delete 127.0.0.1:39281/a/b@sha256:c083ff6cf74ef1999fc3da20ed3d865130212b8db26488f685b148b82c149d1f. "
     "Image may not exist or is not stored with a v2 Schema in a v2 registry", FailureKind.PERMANENT,
     "image not found"),
    ("initializing source docker://127.0.0.1:5341/test:nope: reading manifest nope in 127.0.0.1:5341/test: "
     "manifest unknown: manifest unknown", FailureKind.PERMANENT, "image not found"),
    ('Error parsing image name "docker://127.0.0.1:53867/ns/test/nope:v1": reading manifest v1 in '
     "127.0.0.1:53867/ns/test/nope: manifest unknown: manifest unknown", FailureKind.PERMANENT, "image not found"),
    ("reading manifest 1 in 127.0.0.1:5344/private/x: errors:\ndenied: requested access to the resource is denied\n"
     "unauthorized: authentication required\n", FailureKind.PERMANENT, "authentication failed"),
    ("reading manifest y in 127.0.0.1:5342/x: unauthorized: authentication required", FailureKind.PERMANENT,
     "authentication failed"),
    ("initializing source docker://r/x:1: unable to retrieve auth token: invalid username/password: unauthorized: "
     "incorrect username or password", FailureKind.PERMANENT, "authentication failed"),
    ("writing blob: initiating layer upload to /v2/denied/x/blobs/uploads/ in 127.0.0.1:5344: denied",
     FailureKind.PERMANENT, "access denied"),
    ('pinging container registry 127.0.0.1:5341: Get "https://127.0.0.1:5341/v2/": http: server gave HTTP response '
     "to HTTPS client", FailureKind.PERMANENT, "registry speaks plain HTTP"),
    ('Get "https://127.0.0.1:5343/v2/": x509: certificate signed by unknown authority', FailureKind.PERMANENT,
     "TLS certificate not trusted"),
    ('pinging container registry nonexistent.invalid: Get "https://nonexistent.invalid/v2/": dial tcp: lookup '
     "nonexistent.invalid on 10.255.255.53:53: no such host", FailureKind.PERMANENT, "unknown registry host"),
    ("Invalid source name docker://UPPER/x: invalid reference format: repository name must be lowercase",
     FailureKind.PERMANENT, "invalid image reference"),
    ('initializing source oci:/tmp/src:nosuchtag: no descriptor found for reference "nosuchtag"', FailureKind.PERMANENT,
     "image not found"),
    # transient: retry with backoff
    ('pinging container registry 127.0.0.1:5349: Get "http://127.0.0.1:5349/v2/": dial tcp 127.0.0.1:5349: '
     "connect: connection refused", FailureKind.TRANSIENT, "connection refused"),
    ('Get "http://127.0.0.1:5344/v2/reset/x/manifests/1": EOF', FailureKind.TRANSIENT, "connection closed early (EOF)"),
    ("reading manifest 1 in 127.0.0.1:5344/r/x: toomanyrequests: You have reached your pull rate limit.",
     FailureKind.TRANSIENT, "rate limited (429)"),
    ("reading manifest 1 in 127.0.0.1:5344/r/x: received unexpected HTTP status: 503 Service Unavailable",
     FailureKind.TRANSIENT, "registry overloaded (503)"),
    ("copying image 1/2 from manifest list: reading config blob sha256:c313: fetching blob: received unexpected "
     "HTTP status: 502 Bad Gateway", FailureKind.TRANSIENT, "registry server error (5xx)"),
    ("writing blob: uploading layer chunked: received unexpected HTTP status: 500 Internal Server Error",
     FailureKind.TRANSIENT, "registry server error (5xx)"),
    ("writing blob: uploading layer chunked: blob upload unknown: blob upload unknown to registry",
     FailureKind.TRANSIENT, "blob upload lost"),
    ("writing blob: uploading layer chunked: blob upload unknown", FailureKind.TRANSIENT, "blob upload lost"),
    ('Get "http://127.0.0.1:5344/v2/slow/x/manifests/1": context deadline exceeded', FailureKind.TRANSIENT, "timeout"),
    ('writing blob: Patch "http://localhost:55000/v2/x/blobs/uploads/u": read tcp 127.0.0.1:1->127.0.0.1:2: read: '
     "connection reset by peer", FailureKind.TRANSIENT, "connection reset"),
    ("reading blob sha256:ab: unexpected EOF", FailureKind.TRANSIENT, "connection closed early (EOF)"),
    # the distribution 2.8 same-repository race: retried once the competing copy is done
    ("trying to reuse blob sha256:ab at destination: failed to read from destination repository r3: 500 "
     "(Internal Server Error)", FailureKind.RACE, "registry blob race"),
    ("writing blob: failed to read from destination repository r3: 500 (Internal Server Error)", FailureKind.RACE,
     "registry blob race"),
    ("writing manifest: uploading manifest sha256:ab to 127.0.0.1:5341/r4: errors:\ndigest invalid\n"
     "manifest blob unknown: blob unknown to registry\n", FailureKind.RACE, "manifest blob unknown"),
    ("writing blob: uploading layer to http://127.0.0.1:5341/v2/r/blobs/uploads/u?digest=sha256%3Aab: "
     "digest invalid", FailureKind.RACE, "digest invalid"),
    ('Manifest list must be converted to type "application/vnd.docker.distribution.manifest.list.v2+json" to be '
     'written to destination, but we cannot modify it: "Instructed to preserve digests"', FailureKind.RACE,
     "manifest list upload failed"),
    # worded as the Go errors read; not captured from a live failure
    ('writing blob: Patch "http://r/v2/x/blobs/uploads/u": write tcp 127.0.0.1:1->127.0.0.1:2: write: broken pipe',
     FailureKind.TRANSIENT, "broken pipe"),
    ('pinging container registry r.example: Get "https://r.example/v2/": dial tcp 10.0.0.1:443: connect: network '
     "is unreachable", FailureKind.TRANSIENT, "network unreachable"),
    ("reading blob sha256:ab: fetching blob: http2: server sent GOAWAY and closed the connection; LastStreamID=1999",
     FailureKind.TRANSIENT, "HTTP/2 stream error"),
    ("registry 127.0.0.1:5347 is blocked in ./reg.conf or $HOME/.config/containers/registries.conf.d",
     FailureKind.PERMANENT, "registry blocked by registries.conf"),
    ("Can not copy signatures to oci:/x:t: Pushing signatures for OCI images is not supported", FailureKind.PERMANENT,
     "destination cannot store signatures"),
    ('writing blob: storing blob to file "/var/tmp/x": write /var/tmp/x: no space left on device', FailureKind.PERMANENT,
     "no space left on device"),
    # the primary location's error decides, not the registries.conf mirrors'
    ("(Mirrors also failed: [127.0.0.1:5341/test:nope: reading manifest nope in 127.0.0.1:5341/test: manifest "
     "unknown: manifest unknown]): 127.0.0.1:5346/test:nope: pinging container registry 127.0.0.1:5346: Get "
     '"http://127.0.0.1:5346/v2/": dial tcp 127.0.0.1:5346: connect: connection refused', FailureKind.TRANSIENT,
     "connection refused"),
]


@pytest.mark.parametrize("message, kind, label", CASES)
def test_classifies_real_skopeo_errors(message, kind, label):
    failure = classify(fatal(message))
    assert (failure.kind, failure.label.split(" (")[0]) == (kind, label.split(" (")[0])
    assert failure.retryable == (kind in (FailureKind.TRANSIENT, FailureKind.RACE))
    assert "\n" not in failure.one_line


@pytest.mark.parametrize("scenario, stderr", outage_lines(), ids=lambda value: value[:60])
def test_every_error_of_a_registry_going_away_is_transient_and_says_it_is_down(scenario, stderr):
    failure = classify(stderr)
    assert failure.kind is FailureKind.TRANSIENT, (scenario, failure)
    if "429" in scenario:
        assert failure.label == RATE_LIMITED and down_as(failure) == ""  # it answers: it asks to slow down
    else:
        assert down_as(failure) == (ANSWERING_ERRORS if "answering 5" in scenario else NOT_ANSWERING), failure


@pytest.mark.parametrize("ending, label", [
    ('/blobs/uploads/', "connection closed early (EOF)"),  # writing blob: Patch "…/blobs/uploads/…": EOF
    ("use of closed network connection", "connection closed"),
    ("http: server closed idle connection", "connection closed"),
    ("write: broken pipe", "broken pipe"),
    ("happened during read: unexpected EOF", "connection closed early (EOF)"),
    ("connect: connection refused", "connection refused"),
    ("invalid status code from registry 503 (Service Unavailable)", "registry overloaded (503)"),
])
def test_the_capture_holds_each_shape_that_was_misread_or_never_seen_live(ending, label):
    found = [classify(stderr) for _, stderr in outage_lines() if ending in stderr and
             (ending != '/blobs/uploads/' or '\\": EOF"' in stderr and "Patch" in stderr)]
    assert found and all(failure.label == label for failure in found), (ending, found)


def test_a_failure_that_is_not_transient_never_says_the_registry_is_down():
    assert down_as(classify(fatal("reading manifest 1 in r/x: manifest unknown: manifest unknown"))) == ""
    assert down_as(classify("", returncode=-9)) == ""  # a killed skopeo says nothing of its registries


def test_every_rule_is_exercised():
    labels = {label.split(" (")[0] for _, _, label in CASES}
    labels |= {classify(stderr).label.split(" (")[0] for _, stderr in outage_lines()}
    assert [rule.label for rule in RULES if rule.label.split(" (")[0] not in labels] == []


def test_message_is_unquoted_and_flattened_to_one_line():
    stderr = 'Copying blob sha256:ab\n' + fatal('writing manifest: errors:\n"quoted"\nsecond line\n')
    assert error_message(stderr) == 'writing manifest: errors:; "quoted"; second line'


def test_tty_style_fatal_line_is_read_too():
    assert error_message("FATA[0000] reading manifest x: manifest unknown\n") == "reading manifest x: manifest unknown"


def test_unknown_error_is_permanent_but_keeps_its_text():
    failure = classify(fatal("something nobody has seen before"))
    assert failure.kind is FailureKind.PERMANENT and failure.message == "something nobody has seen before"


def test_killed_skopeo_is_transient_and_an_interrupt_is_not_retried():
    assert classify("", returncode=-9).kind is FailureKind.TRANSIENT
    interrupted = classify("", returncode=-15, interrupted=True)
    assert interrupted.kind is FailureKind.INTERRUPTED and not interrupted.retryable
