"""Retrying skopeo calls with tenacity: transient failures only, bounded by time more than by count.

A registry restarting, or down for minutes, must not cost images: a call is
retried while its failures have lasted less than the window (--retry-window,
10 minutes), with capped exponential backoff and jitter; --retry-times, when
given, caps the count as well. The last attempt is made when the window closes,
so an outage shorter than the window is always outlived.
"""

import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

from skomirror.records import Failure
from skomirror.skopeo.failures import STALLED
from skomirror.skopeo.outages import Watch

T = TypeVar("T")
DEFAULT_RETRY_WINDOW = 600.0  # seconds
MAX_BACKOFF = 30.0  # seconds; a wait for a registry that is down ends sooner when it is back
COUNT_WITHOUT_WINDOW = 5  # retries when --retry-window 0 and --retry-times is not given


class SkopeoFailed(Exception):
    def __init__(self, failure: Failure):
        super().__init__(failure.one_line)
        self.failure = failure


def _retryable(error: BaseException) -> bool:
    return isinstance(error, SkopeoFailed) and error.failure.retryable


class _Streak:
    """When the current run of failures of one call began.

    An attempt that itself ran longer than the window before failing (a long copy
    that made progress, then met an outage) starts a new run: what failed before it
    belongs to another incident. A stalled attempt never does, or a registry that
    accepts connections and answers nothing would be retried forever.
    """

    def __init__(self, window: float):
        self.window = window
        self.began: Optional[float] = None
        self.attempt_started = time.monotonic()

    def failed(self, failure: Failure) -> float:
        """Note a failure now; returns how long the current run of failures has lasted."""
        now = time.monotonic()
        long_attempt = self.window and now - self.attempt_started >= self.window and failure.label != STALLED
        if self.began is None or long_attempt:
            self.began = now
        return now - self.began


@dataclass(frozen=True)
class RetryPolicy:
    retry_times: Optional[int] = None  # None: no count cap within the window
    window: float = DEFAULT_RETRY_WINDOW  # 0: no time bound (the count decides)
    delay: float = 0.0  # 0: exponential backoff 1s, 2s, 4s... up to max_delay, with jitter; else a fixed delay
    max_delay: float = MAX_BACKOFF

    @property
    def count_limit(self) -> Optional[int]:
        if self.retry_times is not None:
            return self.retry_times
        return None if self.window else COUNT_WITHOUT_WINDOW

    def backoff(self, retry_number: int) -> float:
        """The wait before retry `retry_number` (1, 2, ...): between half and all of 2^(n-1) s, capped."""
        if self.delay > 0:
            return self.delay
        ceiling = min(self.max_delay, 2.0 ** (retry_number - 1))
        return ceiling * random.uniform(0.5, 1.0)  # jitter: copies that failed together retry apart

    def call(self, operation: Callable[[], T], stopping: threading.Event,
             on_retry: Optional[Callable[[Failure, float, str], None]] = None, watch: Optional[Watch] = None) -> T:
        """Run `operation`, retrying SkopeoFailed errors that are transient; an interrupt cuts the wait short.

        on_retry(failure, delay, outage): before each wait; outage says which registry is down, if any.
        watch: reports failures and successes to the run's outages, and ends a wait when the registry is back.
        """
        streak = _Streak(self.window)
        latest = {"lasted": 0.0, "outage": ""}  # of the last failure: how long the failures have lasted, its outage
        # (tenacity 8.0 passes `retry_state` by keyword to stop and wait: the name matters)

        def attempt() -> T:
            streak.attempt_started = time.monotonic()
            result = operation()
            if watch is not None:
                watch.answered(streak.attempt_started)
            return result

        def stop(retry_state) -> bool:
            failure = retry_state.outcome.exception().failure
            latest["lasted"] = streak.failed(failure)
            latest["outage"] = watch.failed(failure, self.window) if watch is not None else ""
            limit = self.count_limit
            if limit is not None and retry_state.attempt_number > limit:
                return True
            return bool(self.window) and latest["lasted"] >= self.window

        def wait(retry_state) -> float:
            pause = self.backoff(retry_state.attempt_number)
            return max(0.0, min(pause, self.window - latest["lasted"])) if self.window else pause

        def sleep(seconds: float) -> None:
            if watch is not None:
                watch.wait(seconds, stopping)
            else:
                stopping.wait(seconds)

        def before_sleep(retry_state) -> None:
            if on_retry is not None:
                on_retry(retry_state.outcome.exception().failure, retry_state.next_action.sleep, latest["outage"])

        from tenacity import Retrying, retry_if_exception  # imported by the first retried call, not at start-up
        retrying = Retrying(stop=stop, wait=wait, retry=retry_if_exception(_retryable), reraise=True,
                            sleep=sleep, before_sleep=before_sleep)
        return retrying(attempt)

    def limited(self, retry_times: int) -> "RetryPolicy":
        """At most `retry_times` retries, whatever the window: for a check that must answer soon."""
        limit = self.count_limit
        return RetryPolicy(retry_times if limit is None else min(limit, retry_times), 0.0, self.delay, self.max_delay)
