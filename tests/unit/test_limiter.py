from skomirror.execution.limiter import RegistryLimiter


def test_halves_on_overload_and_climbs_back_one_per_round_of_clean_copies():
    limiter = RegistryLimiter(8, cooldown=0)
    limiter.slow_down("reg", "rate limited (429)")
    assert limiter.limit("reg") == 4
    limiter.slow_down("reg", "registry overloaded (503)")
    assert limiter.limit("reg") == 2
    for _ in range(2):
        limiter.speed_up(["reg"])
    assert limiter.limit("reg") == 3  # one round of 2 clean copies: +1
    for _ in range(3):
        limiter.speed_up(["reg"])
    assert limiter.limit("reg") == 4
    assert limiter.lowest() == {"reg": 2}
    assert [event["limit"] for event in limiter.events] == [4, 2, 3, 4]


def test_one_burst_halves_once_within_the_cooldown():
    limiter = RegistryLimiter(8, cooldown=60)
    for _ in range(5):
        limiter.slow_down("reg", "rate limited (429)")
    assert limiter.limit("reg") == 4


def test_admission_counts_running_copies_per_registry():
    limiter = RegistryLimiter(2, cooldown=0)
    both = limiter.acquire(["a", "b"])
    assert both is not None
    assert limiter.acquire(["a"]) is not None
    assert limiter.acquire(["a"]) is None
    probe = limiter.acquire(["b"])
    assert probe is not None
    probe.release()
    limiter.slow_down("b", "rate limited (429)")
    assert limiter.acquire(["b"]) is None  # limit 1, one running
    both.release()
    assert limiter.acquire(["a", "b"]) is not None and limiter.limit("other") == 2


def test_acquire_at_a_limit_takes_nothing_from_the_other_registries():
    limiter = RegistryLimiter(1, cooldown=0)
    assert limiter.acquire(["a"]) is not None
    assert limiter.acquire(["b", "a"]) is None  # all or none: b was not taken
    assert limiter.acquire(["b"]) is not None


def test_release_gives_back_once_however_often_it_is_called():
    limiter = RegistryLimiter(1, cooldown=0)
    slot = limiter.acquire(["a", "b"])
    slot.release()
    slot.release()
    again = limiter.acquire(["a", "b"])
    assert again is not None
    assert limiter.acquire(["a"]) is None and limiter.acquire(["b"]) is None  # still one slot each, not two
    again.release()
    assert limiter.acquire(["a"]) is not None
