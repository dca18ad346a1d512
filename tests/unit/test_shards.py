"""The cut of a plan into shards (skomirror.shards): the same everywhere, complete, blobs kept on one shard up to a
fair share, balanced by bytes; --shard K/N and a Kubernetes Indexed Job's variables read in one line each."""

import random

import pytest

from skomirror.cli import main
from skomirror.shards import Item, Shard, cut, parse_shard, shard_from_environment


def generated_plan(seed: int, images: int = 120):
    """Images on a few bases (some shared by many images), own layers, a few bundles with related images."""
    rng = random.Random(seed)
    bases = [{f"sha256:base{b}-{layer}": rng.randint(1_000, 80_000) for layer in range(rng.randint(1, 3))}
             for b in range(rng.randint(3, 12))]
    items = []
    for i in range(images):
        blobs = dict(rng.choice(bases)) if rng.random() < 0.8 else {}
        blobs.update({f"sha256:own{i}-{layer}": rng.randint(100, 50_000) for layer in range(rng.randint(1, 4))})
        blobs[f"sha256:manifest{i}"] = 500
        requires = tuple(f"repo{j}:1" for j in rng.sample(range(i), min(i, 2))) if i > 10 and i % 17 == 0 else ()
        items.append(Item(f"repo{i}:1", blobs, requires))
    return items


def groups_by_blob(items, result):
    shards = {}
    for item in items:
        for blob in item.blobs:
            shards.setdefault(blob, set()).add(result.shard_of[item.key])
    return shards


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_every_image_goes_to_one_shard_the_same_way_every_time_and_whatever_the_order(seed, count):
    items = generated_plan(seed)
    first, again = cut(items, count), cut(list(items), count)
    shuffled = list(items)
    random.Random(seed + 100).shuffle(shuffled)
    assert first.shard_of == again.shard_of == cut(shuffled, count).shard_of
    assert sorted(first.shard_of) == sorted(item.key for item in items)  # complete, each image once
    assert set(first.shard_of.values()) <= set(range(count))
    assert sorted(key for shard in range(count) for key in first.keys(shard)) == sorted(first.shard_of)
    assert sum(first.images) == len(items)
    # a blob on several shards is exactly what the cut reports as split
    assert {blob: tuple(sorted(shards)) for blob, shards in groups_by_blob(items, first).items()
            if len(shards) > 1} == first.split
    for item in items:  # a bundle stays with the related images it waits for
        for required in item.requires:
            assert first.shard_of[required] == first.shard_of[item.key]


@pytest.mark.parametrize("seed", range(8))
def test_shards_are_balanced_by_bytes(seed):
    items = generated_plan(seed, images=300)
    result = cut(items, 3)
    unique = sum(result.sizes.values())
    assert max(result.bytes) - min(result.bytes) <= 0.02 * max(result.bytes), result.bytes
    # a blob counts once per shard that needs it: what is split costs a few per cent here, not a shard's worth
    assert unique <= sum(result.bytes) <= 1.10 * unique, (sum(result.bytes), unique)
    assert sum(result.bytes) - unique == sum(result.sizes[blob] * (len(shards) - 1)
                                             for blob, shards in result.split.items())


def test_images_sharing_a_blob_stay_together_while_they_fit_a_fair_share():
    items = []
    for group in range(6):  # six families of four images on their own base: each family well under a third
        base = {f"sha256:base{group}": 10_000}
        items += [Item(f"family{group}/app{i}:1", {**base, f"sha256:own{group}-{i}": 1_000 + i}) for i in range(4)]
    result = cut(items, 3)
    for group in range(6):
        assert len({result.shard_of[f"family{group}/app{i}:1"] for i in range(4)}) == 1
    assert result.split == {}
    assert sorted(result.images) == [8, 8, 8]  # two families each
    assert max(result.bytes) - min(result.bytes) < 100


def test_a_base_under_everything_is_split_rather_than_leaving_one_shard_all_the_work():
    base = {"sha256:base": 50_000}
    items = [Item(f"release:c{i}", {**base, f"sha256:own{i}": 100_000}) for i in range(9)]
    result = cut(items, 3)
    assert sorted(result.images) == [3, 3, 3]
    assert result.split == {"sha256:base": (0, 1, 2)}  # each shard fetches it if the destination lacks it
    assert result.split_bytes(0) == (1, 50_000)
    assert result.bytes == [350_000] * 3


def test_a_group_held_together_by_bundles_stays_whole_even_past_a_fair_share():
    related = [Item(f"op/related{i}:1", {f"sha256:r{i}": 100_000}) for i in range(4)]
    bundle = Item("op/bundle:1", {"sha256:b": 1_000}, tuple(item.key for item in related))
    others = [Item(f"other{i}:1", {f"sha256:o{i}": 10_000}) for i in range(4)]
    result = cut([*related, bundle, *others], 2)
    assert len({result.shard_of[item.key] for item in [*related, bundle]}) == 1
    assert sorted(result.images) == [4, 5]


def test_images_whose_size_is_unknown_are_spread_by_count():
    result = cut([Item(f"unknown{i}:1") for i in range(7)], 3)
    assert sorted(result.images) == [2, 2, 3]
    assert result.bytes == [0, 0, 0]


def test_more_shards_than_images_leaves_some_empty_and_one_shard_is_the_whole_plan():
    items = [Item("a:1", {"sha256:x": 10}), Item("b:1", {"sha256:x": 10, "sha256:y": 5})]
    assert sorted(cut(items, 4).images) == [0, 0, 1, 1]  # a fair share is 4 bytes: x is split
    whole = cut(items, 1)
    assert set(whole.shard_of.values()) == {0} and whole.split == {} and whole.bytes == [15]


@pytest.mark.parametrize("text, shard", [("0/3", Shard(0, 3)), ("2/3", Shard(2, 3)), (" 0 / 1 ", Shard(0, 1))])
def test_shard_option_values(text, shard):
    assert parse_shard(text) == shard


@pytest.mark.parametrize("text, message", [
    ("3/3", "--shard 3/3: shard 3 is out of range: shards of 3 are numbered 0 to 2"),
    ("1/0", "--shard 1/0: the number of shards must be at least 1, not 0"),
    ("one/3", "K 'one' is not a whole number"),
    ("-1/3", "K '-1' is not a whole number"),
    ("2", "'2' is not K/N (shard K of N, K from 0 to N-1)"),
])
def test_bad_shard_option_values(text, message):
    with pytest.raises(ValueError) as refused:
        parse_shard(text)
    assert str(refused.value) == message


def refusal(arguments, tmp_path, monkeypatch, capsys):
    """The lines a refused run prints; it exits 1 and writes nothing."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["run", *arguments, "isc.yaml", "docker://127.0.0.1:1/x"])
    assert exited.value.code == 1
    assert not (tmp_path / "skomirror-workspace").exists()
    return capsys.readouterr().err.splitlines()


def test_a_shard_out_of_range_is_refused_in_one_line_before_anything_is_written(tmp_path, monkeypatch, capsys):
    assert refusal(["--shard", "3/3"], tmp_path, monkeypatch, capsys) == [
        "skomirror: error: Invalid value for '--shard': --shard 3/3: shard 3 is out of range: shards of 3 are "
        "numbered 0 to 2 (see 'skomirror run --help')"]


def test_a_kubernetes_indexed_job_names_the_shard():
    assert shard_from_environment({"JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"}) == (Shard(2, 3), None)
    assert shard_from_environment({}) == (None, None)


@pytest.mark.parametrize("environment, warning", [
    ({"JOB_COMPLETION_INDEX": "1"}, "JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not: this run is not "
                                    "sharded (set both, or pass --shard K/N)"),
    ({"JOB_COMPLETIONS": "3"}, "JOB_COMPLETIONS is set but JOB_COMPLETION_INDEX is not: this run is not sharded "
                               "(set both, or pass --shard K/N)"),
])
def test_one_variable_alone_is_another_kind_of_job(environment, warning):
    assert shard_from_environment(environment) == (None, warning)


@pytest.mark.parametrize("environment, message", [
    ({"JOB_COMPLETION_INDEX": "3", "JOB_COMPLETIONS": "3"},
     "JOB_COMPLETION_INDEX=3 JOB_COMPLETIONS=3: shard 3 is out of range: shards of 3 are numbered 0 to 2"),
    ({"JOB_COMPLETION_INDEX": "x", "JOB_COMPLETIONS": "3"}, "JOB_COMPLETION_INDEX 'x' is not a whole number"),
])
def test_bad_job_variables_are_one_line(environment, message):
    with pytest.raises(ValueError) as refused:
        shard_from_environment(environment)
    assert str(refused.value) == message


def test_bad_job_variables_through_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "5")
    monkeypatch.setenv("JOB_COMPLETIONS", "3")
    assert refusal([], tmp_path, monkeypatch, capsys) == [
        "skomirror: error: JOB_COMPLETION_INDEX=5 JOB_COMPLETIONS=3: shard 5 is out of range: shards of 3 are "
        "numbered 0 to 2 (see 'skomirror run --help')"]
