"""Retrying skopeo calls with tenacity: backoff with jitter, transient failures only."""

import threading
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_fixed, wait_random

from skomirror.records import Failure

T = TypeVar("T")


class SkopeoFailed(Exception):
    def __init__(self, failure: Failure):
        super().__init__(failure.one_line)
        self.failure = failure


def _retryable(error: BaseException) -> bool:
    return isinstance(error, SkopeoFailed) and error.failure.retryable


@dataclass(frozen=True)
class RetryPolicy:
    retry_times: int = 5
    delay: float = 0.0  # 0: exponential backoff 1s, 2s, 4s... as oc-mirror; otherwise a fixed delay
    max_delay: float = 60.0

    def _wait(self):
        if self.delay > 0:
            return wait_fixed(self.delay)
        return wait_exponential(multiplier=1, max=self.max_delay) + wait_random(0, 1)

    def call(self, operation: Callable[[], T], stopping: threading.Event,
             on_retry: Optional[Callable[[Failure, float], None]] = None) -> T:
        """Run `operation`, retrying SkopeoFailed errors that are transient; an interrupt cuts the wait short."""

        def before_sleep(state) -> None:
            if on_retry is not None:
                on_retry(state.outcome.exception().failure, state.next_action.sleep)

        retrying = Retrying(
            stop=stop_after_attempt(self.retry_times + 1),
            wait=self._wait(),
            retry=retry_if_exception(_retryable),
            reraise=True,
            sleep=stopping.wait,
            before_sleep=before_sleep,
        )
        return retrying(operation)

    def limited(self, retry_times: int) -> "RetryPolicy":
        return RetryPolicy(min(self.retry_times, retry_times), self.delay, self.max_delay)
