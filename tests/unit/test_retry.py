"""RetryPolicy: transient failures retried while within the window, the count only when asked, the outages told."""

import threading
import time

import pytest

from skomirror.records import Failure, FailureKind
from skomirror.skopeo.failures import STALLED
from skomirror.skopeo.outages import Outages
from skomirror.skopeo.retry import COUNT_WITHOUT_WINDOW, RetryPolicy, SkopeoFailed

REFUSED = Failure(FailureKind.TRANSIENT, "connection refused",
                  'Get "http://127.0.0.1:5001/v2/": dial tcp 127.0.0.1:5001: connect: connection refused')
UNKNOWN = Failure(FailureKind.PERMANENT, "image not found", "manifest unknown: manifest unknown")


class Script:
    """An operation that fails with the given failures in turn (sleeping first when told), then answers "ok"."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.calls = []

    def __call__(self):
        self.calls.append(time.monotonic())
        if not self.steps:
            return "ok"
        step = self.steps.pop(0)
        failure, pause = step if isinstance(step, tuple) else (step, 0.0)
        time.sleep(pause)
        raise SkopeoFailed(failure)


def test_without_retry_times_the_window_decides_not_a_count():
    operation = Script(*[REFUSED] * 12)  # far more than the old budget of 5
    assert RetryPolicy(window=5, delay=0.01).call(operation, threading.Event()) == "ok"
    assert len(operation.calls) == 13


def test_retries_stop_once_the_window_has_passed_with_a_last_attempt_when_it_closes():
    operation = Script(*[REFUSED] * 1000)
    with pytest.raises(SkopeoFailed):
        RetryPolicy(window=0.3, delay=0.1).call(operation, threading.Event())
    assert operation.calls[-1] - operation.calls[0] >= 0.3  # the last try is at the window's end, not before
    assert len(operation.calls) <= 6


def test_retry_times_given_caps_the_count_within_the_window():
    operation = Script(*[REFUSED] * 10)
    with pytest.raises(SkopeoFailed):
        RetryPolicy(retry_times=2, window=600, delay=0.001).call(operation, threading.Event())
    assert len(operation.calls) == 3


def test_without_a_window_the_count_has_a_default():
    operation = Script(*[REFUSED] * 10)
    with pytest.raises(SkopeoFailed):
        RetryPolicy(window=0, delay=0.001).call(operation, threading.Event())
    assert len(operation.calls) == COUNT_WITHOUT_WINDOW + 1


@pytest.mark.parametrize("policy", [RetryPolicy(), RetryPolicy(retry_times=5), RetryPolicy(window=0)])
def test_a_permanent_failure_fails_on_the_first_attempt(policy):
    operation = Script(UNKNOWN)
    with pytest.raises(SkopeoFailed):
        policy.call(operation, threading.Event())
    assert len(operation.calls) == 1


def test_an_attempt_longer_than_the_window_starts_the_window_again():
    # a fast failure, then a long attempt that fails (a long copy meeting a later outage), then success
    operation = Script(REFUSED, (REFUSED, 0.35), REFUSED)
    assert RetryPolicy(window=0.3, delay=0.01).call(operation, threading.Event()) == "ok"


def test_a_stalled_attempt_never_starts_the_window_again():
    stalled = Failure(FailureKind.TRANSIENT, STALLED, "no byte progress for 0.35s; skopeo was stopped")
    operation = Script(REFUSED, (stalled, 0.35), REFUSED)
    with pytest.raises(SkopeoFailed):
        RetryPolicy(window=0.3, delay=0.01).call(operation, threading.Event())
    assert len(operation.calls) == 2


def test_limited_counts_retries_whatever_the_window():
    policy = RetryPolicy().limited(1)
    assert (policy.count_limit, policy.window) == (1, 0)
    assert RetryPolicy(retry_times=0).limited(1).count_limit == 0


def test_backoff_doubles_with_jitter_and_stops_at_the_cap():
    policy = RetryPolicy(max_delay=30)
    for number, ceiling in [(1, 1), (2, 2), (4, 8), (6, 30), (20, 30)]:
        waits = [policy.backoff(number) for _ in range(200)]
        assert ceiling / 2 <= min(waits) and max(waits) <= ceiling
        assert max(waits) - min(waits) > ceiling / 10  # jittered, not all the same
    assert RetryPolicy(delay=2.5).backoff(7) == 2.5


def test_an_interrupt_cuts_the_wait_short():
    stopping = threading.Event()
    threading.Timer(0.1, stopping.set).start()
    started = time.monotonic()
    operation = Script(REFUSED, REFUSED)
    RetryPolicy(delay=30).call(operation, stopping)  # the second attempt runs at once, and no wait follows
    assert time.monotonic() - started < 10


def test_a_wait_for_a_registry_that_is_down_ends_when_any_call_finds_it_back():
    said = []
    outages = Outages(window=600, say=said.append)
    watch = outages.watch({"127.0.0.1:5001": "destination"})
    notes = []
    threading.Timer(0.2, outages.answered, args=(["127.0.0.1:5001"],)).start()  # another copy got through
    started = time.monotonic()
    operation = Script(REFUSED)
    assert RetryPolicy(delay=30).call(operation, threading.Event(),
                                      lambda failure, delay, outage: notes.append(outage), watch) == "ok"
    assert time.monotonic() - started < 10  # not the 30 s of its backoff
    assert notes == [said[0].split(" (")[0]]  # the per-image log names the outage: "destination … since …"
    assert said[0].startswith("destination 127.0.0.1:5001 not answering since ") and "retrying until" in said[0]
    assert said[1].startswith("destination 127.0.0.1:5001 answering again after ")


def test_success_tells_the_outages_the_registries_answer():
    outages = Outages(window=600)
    outages.failed("127.0.0.1:5001", "destination", REFUSED)
    RetryPolicy().call(Script(), threading.Event(), watch=outages.watch({"127.0.0.1:5001": "destination"}))
    assert outages.status() == "" and outages.lines[-1].startswith("destination 127.0.0.1:5001 answering again")
