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
    assert limiter.admits(["a", "b"])
    limiter.started(["a", "b"])
    limiter.started(["a"])
    assert not limiter.admits(["a"]) and limiter.admits(["b"])
    limiter.slow_down("b", "rate limited (429)")
    assert not limiter.admits(["b"])  # limit 1, one running
    limiter.finished(["a", "b"])
    assert limiter.admits(["a", "b"]) and limiter.limit("other") == 2
