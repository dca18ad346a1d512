"""Outages: a registry that is down is said once, with since and until; its return once; only real outages count."""

import re
import time

from skomirror.records import Failure, FailureKind
from skomirror.skopeo.failures import classify
from skomirror.skopeo.outages import Outages, culprit

SOURCE, DESTINATION = "127.0.0.1:5000", "127.0.0.1:5001"


def fatal(message: str) -> str:
    return f'time="2026-12-02T01:45:21Z" level=fatal msg="{message}"\n'


# real lines from tests/unit/data/skopeo-outage-stderr.txt, unescaped
PATCH_EOF = classify(fatal(
    'writing blob: Patch \\"http://127.0.0.1:5001/v2/app/i3/blobs/uploads/9c23c6c2-b084-4a54-b580-0cd7476bb3d4?'
    '_state=X\\": EOF'))
SOURCE_503 = classify(fatal("initializing source docker://127.0.0.1:5000/app/x:1: pinging container registry "
                            "127.0.0.1:5000: invalid status code from registry 503 (Service Unavailable)"))
SOURCE_429 = classify(fatal("initializing source docker://127.0.0.1:5000/app/x:1: pinging container registry "
                            "127.0.0.1:5000: too many requests to registry"))
HH_MM_SS = r"\d\d:\d\d:\d\d"


def test_a_registry_going_down_is_said_once_with_since_and_until():
    said = []
    outages = Outages(window=600, say=said.append)
    watch = outages.watch({SOURCE: "source", DESTINATION: "destination"})
    notes = [watch.failed(PATCH_EOF) for _ in range(3)]
    assert len(said) == 1
    assert re.fullmatch(rf"destination {DESTINATION} not answering since ({HH_MM_SS}) \(connection closed early "
                        rf"\(EOF\)\); retrying until {HH_MM_SS}", said[0])
    assert notes == [said[0].split(" (")[0]] * 3  # each retry's log line names the same outage
    assert re.fullmatch(rf"destination {DESTINATION} not answering since {HH_MM_SS} \(\d+ s\)", outages.status())


def test_the_return_is_said_once_and_both_lines_are_kept_for_results():
    said = []
    outages = Outages(window=600, say=said.append)
    outages.watch({SOURCE: "source"}).failed(SOURCE_503)
    outages.answered([SOURCE, DESTINATION])
    outages.answered([SOURCE])
    assert len(said) == 2 and said == outages.lines
    assert said[0].startswith(f"source {SOURCE} answering errors since ")
    assert re.fullmatch(rf"source {SOURCE} answering again after \d+ s \(down since {HH_MM_SS}\)", said[1])
    assert outages.status() == ""


def test_rate_limits_races_and_permanent_failures_are_no_outage():
    said = []
    outages = Outages(window=600, say=said.append)
    watch = outages.watch({SOURCE: "source"})
    race = Failure(FailureKind.RACE, "manifest blob unknown", f"uploading manifest to {SOURCE}/r4")
    unknown = classify(fatal(f"reading manifest 1 in {SOURCE}/x: manifest unknown: manifest unknown"))
    assert [watch.failed(failure) for failure in (SOURCE_429, race, unknown)] == ["", "", ""]
    assert said == [] and outages.status() == ""


def test_without_a_window_the_line_promises_no_time():
    said = []
    Outages(window=600, say=said.append).watch({DESTINATION: "destination"}).failed(PATCH_EOF, window=0)
    assert "retrying until" not in said[0]


def test_the_culprit_is_the_registry_the_message_names_else_the_source():
    sides = {SOURCE: "source", DESTINATION: "destination"}
    assert culprit(PATCH_EOF, sides) == DESTINATION
    assert culprit(Failure(FailureKind.TRANSIENT, "timeout", "context deadline exceeded"), sides) == SOURCE
    refused = Failure(FailureKind.TRANSIENT, "connection refused",
                      "dial tcp 127.0.0.1:50001: connect: connection refused")
    assert culprit(refused, {"127.0.0.1:5000": "source", "127.0.0.1:50001": "destination"}) == "127.0.0.1:50001"
    assert culprit(refused, {"127.0.0.1:50001": "destination"}) == "127.0.0.1:50001"  # from a store: no source


def test_an_upload_that_ran_dry_blames_the_source_it_was_reading():
    # real: the source killed while its blob was being written to the destination
    dry = classify(fatal('writing blob: Patch \\"http://127.0.0.1:5001/v2/big/x/blobs/uploads/37719d4a?_state=X\\": '
                         'readfrom tcp 127.0.0.1:40250->127.0.0.1:5001: happened during read: unexpected EOF'))
    assert culprit(dry, {SOURCE: "source", DESTINATION: "destination"}) == SOURCE


def test_a_call_begun_before_the_registry_went_down_does_not_bring_it_back():
    said = []
    outages = Outages(window=600, say=said.append)
    before = time.monotonic()
    outages.watch({SOURCE: "source"}).failed(SOURCE_503)
    outages.answered([SOURCE], started=before)  # a copy that had read everything before the 503s began
    assert outages.status().startswith(f"source {SOURCE} answering errors since ") and len(said) == 1
    outages.answered([SOURCE], started=time.monotonic())
    assert outages.status() == "" and said[1].startswith(f"source {SOURCE} answering again after ")
