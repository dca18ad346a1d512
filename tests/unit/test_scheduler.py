import copy
import threading
import time

import pytest

from skomirror.execution.limiter import RegistryLimiter
from skomirror.execution.scheduler import (BlobScheduler, Claim, InFlight, Waiting, choose, known_in_registry,
                                          missing_blobs, smallest_first)
from skomirror.execution.weight_order import WeightOrder


def scheduler_for(tasks, **options):
    """tasks: (name, repository, {digest: size} or None)"""
    return BlobScheduler(list(tasks), repository=lambda t: t[1], blobs=lambda t: t[2], **options)


def test_a_blob_the_destination_lacks_is_fetched_by_one_copy_at_a_time():
    base = {"base": 100}
    s = scheduler_for([("a", "r1", {**base, "a1": 10}), ("b", "r2", {**base, "b1": 10}), ("c", "r3", {"c1": 10})],
                      small_lane=False)
    a = s.next()
    assert a[0] == "a"
    assert s.next()[0] == "c"  # b needs "base", which a is fetching
    s.finished(a)
    assert s.next()[0] == "b"  # "base" is at the destination now: b mounts it instead of fetching it


def test_within_one_repository_copies_run_together_once_shared_blobs_are_there():
    tasks = [(f"t{i}", "one/repo", {"base": 100, f"own{i}": 1}) for i in range(4)]
    s = scheduler_for(tasks, small_lane=False)
    first = s.next()
    waiting = []
    thread = threading.Thread(target=lambda: waiting.append(s.next()))
    thread.start()
    time.sleep(0.05)
    assert waiting == []  # everything else needs the base the first one is writing
    s.finished(first)
    thread.join(5)
    others = waiting + [s.next(), s.next()]
    assert sorted(t[0] for t in others) == sorted(t[0] for t in tasks if t is not first)  # all three at once


def test_a_failed_copy_teaches_nothing():
    s = scheduler_for([("a", "r", {"base": 1}), ("b", "r2", {"base": 1})], small_lane=False)
    a = s.next()
    s.finished(a, succeeded=False)
    b = s.next()
    assert b[0] == "b"
    blocked = scheduler_for([("x", "r", {"base": 1}), ("y", "r2", {"base": 1}), ("z", "r3", {"base": 1})],
                            small_lane=False)
    x = blocked.next()
    blocked.finished(x, succeeded=False)
    y = blocked.next()
    result = []
    thread = threading.Thread(target=lambda: result.append(blocked.next()))
    thread.start()
    time.sleep(0.05)
    assert result == []  # y fetches "base" again; z must still wait
    blocked.finished(y)
    thread.join(5)
    assert result[0][0] == "z"


def test_unknown_blobs_run_alone_in_their_repository():
    s = scheduler_for([("a", "r", None), ("b", "r", {"y": 1}), ("c", "other", None)], small_lane=False)
    b = s.next()
    assert b[0] == "b"
    assert s.next()[0] == "c"  # a may not join b in repository r
    s.finished(b)
    assert s.next()[0] == "a"
    assert scheduler_for([("u", "r", None), ("k", "r", {"y": 1})], small_lane=False).next()[0] == "k"


def test_the_carrier_of_a_widely_shared_blob_goes_first_then_the_largest():
    tasks = [("small", "r1", {"s": 5}), ("big", "r2", {"b": 50}),
             ("shared-1", "r3", {"base": 20, "x": 1}), ("shared-2", "r4", {"base": 20, "y": 1}),
             ("shared-3", "r5", {"base": 20, "z": 1})]
    s = scheduler_for(tasks, small_lane=False)
    assert [s.next()[0] for _ in range(3)] == ["shared-1", "big", "small"]  # base weighs 3 x 20


def release_shaped(count=6):
    """Components in one repository on one shared OS layer and one of three shared middle layers."""
    middles = [("m0", 12), ("m1", 8), ("m2", 4)]
    return [(f"c{i}", "release", {"os": 30, middles[i % 3][0]: middles[i % 3][1], f"own{i}": 1})
            for i in range(count)]


def test_the_carriers_of_the_next_shared_blobs_go_before_copies_that_only_wait():
    s = scheduler_for(release_shaped(), small_lane=False)
    first = s.next()
    assert first[0] == "c0"  # the OS layer and the largest middle layer
    s.finished(first)
    # c3 shares c0's middle layer, now there: its weight is its own layer. c1 and c2 carry the other two
    # middle layers, which c4 and c5 wait for: they start first, not after every copy on c0's middle layer
    assert [s.next()[0] for _ in range(3)] == ["c1", "c2", "c3"]


def test_a_shared_blob_whose_fetch_failed_weighs_again():
    s = scheduler_for(release_shaped(), small_lane=False)
    s.finished(s.next())
    c1, c2 = s.next(), s.next()
    assert (c1[0], c2[0]) == ("c1", "c2")
    s.finished(c1, succeeded=False)  # nobody has m1 now: c4 carries it, before c3 which waits for nothing
    assert s.next()[0] == "c4"


def test_one_slot_goes_to_the_smallest_copy():
    tasks = [("huge", "r1", {"h": 1000}), ("large", "r2", {"l": 500}), ("tiny", "r3", {"t": 1}),
             ("medium", "r4", {"m": 50})]
    s = scheduler_for(tasks)
    assert [s.next()[0] for _ in range(3)] == ["huge", "tiny", "large"]


def test_a_task_waits_for_what_it_depends_on():
    done = set()
    tasks = [("bundle", "r1", {"b": 1}), ("related", "r2", {"x": 1})]
    s = scheduler_for(tasks, ready=lambda t: t[0] != "bundle" or "related" in done, small_lane=False)
    related = s.next()
    assert related[0] == "related"
    waiter = []
    thread = threading.Thread(target=lambda: waiter.append(s.next()))
    thread.start()
    time.sleep(0.05)
    assert waiter == []  # the bundle cannot start while its related image is copying
    done.add("related")
    s.finished(related)
    thread.join(5)
    assert waiter[0][0] == "bundle"


def test_stop_returns_what_never_started_and_wakes_waiters():
    s = scheduler_for([("a", "r", None), ("b", "r", None), ("c", "r", None)], small_lane=False)
    s.next()
    result = []
    waiter = threading.Thread(target=lambda: result.append(s.next()))
    waiter.start()
    time.sleep(0.05)
    never = s.stop()
    waiter.join(5)
    assert result == [None] and sorted(t[0] for t in never) == ["b", "c"]


def test_never_two_writers_of_one_new_blob_under_threads():
    tasks = [(f"t{i}", "one/repo", {"base": 10, f"own{i}": 1}) for i in range(8)]
    s = scheduler_for(tasks)
    running, peak_writers, lock, done = [], [0], threading.Lock(), []
    present = set()

    def worker():
        while True:
            task = s.next()
            if task is None:
                return
            with lock:
                running.append(task)
                writers = [t for t in running if "base" not in present]
                peak_writers[0] = max(peak_writers[0], len(writers))
            time.sleep(0.01)
            with lock:
                running.remove(task)
                present.add("base")
                done.append(task[0])
            s.finished(task)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak_writers[0] == 1 and sorted(done) == sorted(t[0] for t in tasks)


def test_manifests_are_written_every_time_so_aliases_stay_apart():
    image = {"layer": 10, "manifest": 1}
    tasks = [(f"alias-{i}", "r", image) for i in range(3)]
    s = BlobScheduler(tasks, lambda t: t[1], lambda t: t[2], small_lane=False, rewritten=lambda t: {"manifest"})
    first = s.next()
    s.finished(first)
    second = s.next()
    result = []
    thread = threading.Thread(target=lambda: result.append(s.next()))
    thread.start()
    time.sleep(0.05)
    assert result == []  # the layer is there now, but the manifest is put again: still one at a time
    s.finished(second)
    thread.join(5)
    assert result[0][0] in ("alias-0", "alias-1", "alias-2")


def test_blobs_already_at_the_destination_neither_block_nor_weigh():
    tasks = [("a", "r1", {"base": 1000, "a1": 10}), ("b", "r1", {"base": 1000, "b1": 20}),
             ("c", "r2", {"c1": 500})]
    s = scheduler_for(tasks, small_lane=False, present={"r1": {"base"}})
    assert [s.next()[0] for _ in range(3)] == ["c", "b", "a"]  # by what is missing; nobody waits for "base"


def test_a_blob_only_one_repository_holds_is_still_fetched_once_for_the_others():
    tasks = [("a", "r1", {"base": 100, "a1": 1}), ("b", "r2", {"base": 100, "b1": 1}),
             ("c", "r3", {"base": 100, "c1": 1})]
    s = scheduler_for(tasks, small_lane=False, present={"r1": {"base"}})
    first = s.next()
    assert first[0] == "b"  # r1 needs nothing fetched but its own layer: the weight of the base is b's and c's
    assert s.next()[0] == "a"  # a needs no fetch of the base
    result = []
    thread = threading.Thread(target=lambda: result.append(s.next()))
    thread.start()
    time.sleep(0.05)
    assert result == []  # c waits: skopeo into r3 would fetch the base again while b fetches it
    s.finished(first)
    thread.join(5)
    assert result[0][0] == "c"


def claim(repository, fetch=(), link=(), exclusive=False, small=False):
    return Claim(repository, frozenset(fetch), frozenset(link), exclusive, small)


def choice(copies, present=None, ready=lambda name: True, **flight):
    """copies: (name, repository, {digest: size} or None[, rewritten]) in plan order; flight: InFlight fields,
    with in_registry and in_repository worked out from present unless given."""
    present = present or {}
    names = [c[0] for c in copies]
    waiting = [Waiting(c[1], c[2], frozenset(c[3]) if len(c) > 3 else frozenset()) for c in copies]
    by_weight = list(WeightOrder(range(len(waiting)), missing_blobs(waiting, present)))
    by_size = smallest_first(waiting)
    flight.setdefault("in_registry", known_in_registry(waiting, present))
    flight.setdefault("in_repository", present)
    return choose([(names[i], waiting[i]) for i in by_weight], [(names[i], waiting[i]) for i in by_size],
                  InFlight(**flight), ready)


CHOICES = [
    ("a blob another copy is fetching: waits",
     dict(copies=[("a", "r1", {"base": 100, "a1": 1})], fetching={"base": 1}, running=1),
     None),
    ("the same blob in the registry already: starts, links it, fetches nothing",
     dict(copies=[("a", "r2", {"base": 100})], in_registry={"base"}),
     ("a", claim("r2", link={"base"}))),
    ("a blob in the registry but being linked into this repository: waits",
     dict(copies=[("a", "r2", {"base": 100})], in_registry={"base"}, linking={"r2": {"base": 1}}),
     None),
    ("a blob the repository holds: neither fetched nor linked, whoever fetches it elsewhere",
     dict(copies=[("a", "r", {"base": 100, "own": 1})], present={"r": {"base"}}, in_registry=set(),
          fetching={"base": 1}),
     ("a", claim("r", fetch={"own"}, link={"own"}))),
    ("unknown blobs, the repository busy: waits",
     dict(copies=[("u", "r", None)], linking={"r": {"x": 1}}),
     None),
    ("unknown blobs, the repository idle (counts back at zero): starts alone",
     dict(copies=[("u", "r", None)], linking={"r": {"x": 0}}, fetching={"x": 0}),
     ("u", claim("r", exclusive=True))),
    ("a copy of unknown blobs running in the repository: nothing else starts there",
     dict(copies=[("k", "r", {"y": 1})], exclusive={"r": 1}),
     None),
    ("a copy of unknown blobs running elsewhere: no bar",
     dict(copies=[("k", "r", {"y": 1})], exclusive={"other": 1, "r": 0}),
     ("k", claim("r", fetch={"y"}, link={"y"}))),
    ("its rewritten manifest being linked: waits, though the repository holds it",
     dict(copies=[("alias", "r", {"layer": 10, "manifest": 1}, {"manifest"})],
          present={"r": {"layer", "manifest"}}, linking={"r": {"manifest": 1}}),
     None),
    ("its rewritten manifest free: starts, links only the manifest",
     dict(copies=[("alias", "r", {"layer": 10, "manifest": 1}, {"manifest"})],
          present={"r": {"layer", "manifest"}}),
     ("alias", claim("r", link={"manifest"}))),
    ("largest first",
     dict(copies=[("small", "r1", {"s": 5}), ("big", "r2", {"b": 50})]),
     ("big", claim("r2", fetch={"b"}, link={"b"}))),
    ("a blob weighs once per copy needing it",
     dict(copies=[("big", "r1", {"b": 50}), ("shared-1", "r2", {"base": 20, "x": 1}),
                  ("shared-2", "r3", {"base": 20, "y": 1}), ("shared-3", "r4", {"base": 20, "z": 1})]),
     ("shared-1", claim("r2", fetch={"base", "x"}, link={"base", "x"}))),
    ("what is present weighs nothing",
     dict(copies=[("a", "r1", {"base": 1000, "a1": 10}), ("c", "r2", {"c1": 500})], present={"r1": {"base"}}),
     ("c", claim("r2", fetch={"c1"}, link={"c1"}))),
    ("a blob only one repository holds is still fetched for another",
     dict(copies=[("a", "r1", {"base": 100, "a1": 1}), ("b", "r2", {"base": 100, "b1": 1})],
          present={"r1": {"base"}}),
     ("b", claim("r2", fetch={"base", "b1"}, link={"base", "b1"}))),
    ("the largest blocked: the next largest",
     dict(copies=[("small", "r1", {"s": 5}), ("big", "r2", {"b": 50})], fetching={"b": 1}, running=1),
     ("small", claim("r1", fetch={"s"}, link={"s"}))),
    ("the largest not ready: the next largest",
     dict(copies=[("small", "r1", {"s": 5}), ("big", "r2", {"b": 50})], ready=lambda name: name != "big"),
     ("small", claim("r1", fetch={"s"}, link={"s"}))),
    ("small lane free and something runs: the smallest, in the lane",
     dict(copies=[("huge", "r1", {"h": 1000}), ("tiny", "r2", {"t": 1})], small_lane_free=True, running=1),
     ("tiny", claim("r2", fetch={"t"}, link={"t"}, small=True))),
    ("small lane free but nothing runs: the largest goes first",
     dict(copies=[("huge", "r1", {"h": 1000}), ("tiny", "r2", {"t": 1})], small_lane_free=True),
     ("huge", claim("r1", fetch={"h"}, link={"h"}))),
    ("small lane taken: the largest",
     dict(copies=[("huge", "r1", {"h": 1000}), ("tiny", "r2", {"t": 1})], small_lane_free=False, running=2),
     ("huge", claim("r1", fetch={"h"}, link={"h"}))),
    ("the smallest blocked: the next smallest takes the lane",
     dict(copies=[("huge", "r1", {"h": 1000}), ("mid", "r2", {"m": 10}), ("tiny", "r3", {"t": 1})],
          fetching={"t": 1}, small_lane_free=True, running=1),
     ("mid", claim("r2", fetch={"m"}, link={"m"}, small=True))),
    ("nothing waiting: nothing starts",
     dict(copies=[], running=3),
     None),
]


@pytest.mark.parametrize("case, expected", [row[1:] for row in CHOICES], ids=[row[0] for row in CHOICES])
def test_which_copy_may_start(case, expected):
    assert choice(**case) == expected


def test_the_choice_changes_nothing_it_reads():
    waiting = [("a", Waiting("r", {"base": 1, "a1": 1}, frozenset({"a1"}))), ("b", Waiting("r2", None))]
    flight = InFlight(fetching={"x": 1}, linking={"r": {"y": 1}}, exclusive={"r3": 1}, in_registry={"base"},
                      in_repository={"r": {"base"}}, running=1, small_lane_free=True)
    before = (copy.deepcopy(waiting), copy.deepcopy(flight))
    assert choose(waiting, list(reversed(waiting)), flight) == ("b", claim("r2", exclusive=True, small=True))
    assert (waiting, flight) == before


def test_a_registry_slot_is_held_while_the_copy_runs_and_given_back_when_it_finishes():
    limiter = RegistryLimiter(1, cooldown=0)
    tasks = [("a", "r1", {"a1": 10}, "reg"), ("b", "r2", {"b1": 5}, "reg"), ("c", "r3", {"c1": 1}, "other")]
    s = scheduler_for(tasks, small_lane=False, acquire=lambda t: limiter.acquire([t[3]]))
    a = s.next()
    assert a[0] == "a"
    assert s.next()[0] == "c"  # b's registry is full: the next that fits starts
    result = []
    thread = threading.Thread(target=lambda: result.append(s.next()))
    thread.start()
    time.sleep(0.05)
    assert result == []
    s.finished(a, succeeded=False)
    thread.join(5)
    assert result[0][0] == "b" and limiter.acquire(["reg"]) is None  # a's slot went to b, once


@pytest.mark.parametrize("case", [row[1] for row in CHOICES], ids=[row[0] for row in CHOICES])
def test_what_a_copy_waits_for_is_named_exactly_when_it_may_not_start(case):
    from skomirror.execution.scheduler import blocker, may_start

    flight_fields = {k: v for k, v in case.items() if k not in ("copies", "present", "ready")}
    present = case.get("present") or {}
    waiting = [Waiting(c[1], c[2], frozenset(c[3]) if len(c) > 3 else frozenset()) for c in case["copies"]]
    flight_fields.setdefault("in_registry", known_in_registry(waiting, present))
    flight_fields.setdefault("in_repository", present)
    flight = InFlight(**flight_fields)
    for copy_ in waiting:
        assert (may_start(copy_, flight) is None) == (blocker(copy_, flight) is not None)


def test_a_waiting_copy_is_asked_again_only_once_a_copy_holding_what_it_waits_for_finishes(monkeypatch):
    from skomirror.execution import scheduler

    asked = []
    real = scheduler.may_start
    monkeypatch.setattr(scheduler, "may_start", lambda copy_, flight: asked.append(copy_.repository) or
                        real(copy_, flight))
    tasks = [("a", "r1", {"base": 100, "a1": 10}), ("b", "r2", {"base": 100, "b1": 5}), ("c", "r3", {"c1": 1}),
             ("d", "r4", {"d1": 1})]
    s = scheduler_for(tasks, small_lane=False)
    a = s.next()
    assert a[0] == "a"
    c = s.next()
    assert c[0] == "c" and asked.count("r2") == 1  # b waits for "base": set aside
    s.finished(c)  # held nothing b waits for
    assert s.next()[0] == "d" and asked.count("r2") == 1
    s.finished(a)
    assert s.next()[0] == "b" and asked.count("r2") == 2


def test_a_copy_set_aside_for_a_repository_is_woken_by_any_copy_there():
    tasks = [("k", "r", {"k1": 50}), ("u", "r", None), ("o", "other", {"o1": 1})]
    s = scheduler_for(tasks, small_lane=False)
    k = s.next()
    assert k[0] == "k"
    assert s.next()[0] == "o"  # u, of unknown blobs, waits until nothing is written into r
    result = []
    thread = threading.Thread(target=lambda: result.append(s.next()))
    thread.start()
    time.sleep(0.05)
    assert result == []
    s.finished(k)
    thread.join(5)
    assert result[0][0] == "u"
