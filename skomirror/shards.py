"""Cutting one plan into N shards that N machines run at once (`skomirror run --shard K/N`).

Pure, and on purpose blind to the destination: every shard must cut the plan the same way, even one
that starts after the others have finished (its survey then finds their images mirrored, and their
blobs present). So the cut reads only what every shard reads alike: each image's name and its source
blobs.

Images that share a blob are joined into one group, so that a blob the destination lacks crosses the
link once; a bundle is joined with the related images it must wait for. Blobs are taken rarest first,
and a join that would make a group larger than a fair share (all bytes over N) is not made: a blob
under most of the set (a release's base layers) would otherwise leave one shard with everything. Such
a blob is *split*: each shard whose images need it fetches it when the destination lacks it, and the
cut says how many bytes that is. Groups are then placed largest first, each on the shard it leaves lightest (a blob the shard holds already
adds nothing, so images on a split base gather where the base is).
"""

import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

INDEX_VARIABLE, COUNT_VARIABLE = "JOB_COMPLETION_INDEX", "JOB_COMPLETIONS"  # what a Kubernetes Indexed Job sets


@dataclass(frozen=True)
class Shard:
    index: int  # from 0, as JOB_COMPLETION_INDEX counts
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _whole(text: str, what: str) -> int:
    if not re.fullmatch(r"\s*[0-9]+\s*", text):
        raise ValueError(f"{what} {text!r} is not a whole number")
    return int(text)


def make_shard(index: int, count: int, where: str) -> Shard:
    if count < 1:
        raise ValueError(f"{where}: the number of shards must be at least 1, not {count}")
    if not 0 <= index < count:
        raise ValueError(f"{where}: shard {index} is out of range: shards of {count} are numbered 0 to {count - 1}")
    return Shard(index, count)


def parse_shard(text: str) -> Shard:
    """`K/N`, K counted from 0; a ValueError names what is wrong."""
    index, slash, count = text.partition("/")
    if not slash:
        raise ValueError(f"{text!r} is not K/N (shard K of N, K from 0 to N-1)")
    return make_shard(_whole(index, "K"), _whole(count, "N"), f"--shard {text}")


def shard_from_environment(environment: Mapping[str, str]) -> Tuple[Optional[Shard], Optional[str]]:
    """(the shard a Kubernetes Indexed Job names, a warning): both variables, or neither, make sense.

    Kubernetes sets JOB_COMPLETION_INDEX only; the Job must set JOB_COMPLETIONS itself (examples/kubernetes).
    One of them alone is a Job that runs something else per index: not sharded, with a warning.
    """
    index, count = environment.get(INDEX_VARIABLE), environment.get(COUNT_VARIABLE)
    if index is None and count is None:
        return None, None
    if index is None or count is None:
        present, absent = (INDEX_VARIABLE, COUNT_VARIABLE) if count is None else (COUNT_VARIABLE, INDEX_VARIABLE)
        return None, f"{present} is set but {absent} is not: this run is not sharded (set both, or pass --shard K/N)"
    where = f"{INDEX_VARIABLE}={index} {COUNT_VARIABLE}={count}"
    return make_shard(_whole(index, INDEX_VARIABLE), _whole(count, COUNT_VARIABLE), where), None


@dataclass(frozen=True)
class Item:
    """One planned image as the cut sees it."""

    key: str  # its name under DEST: the same on every shard (unlike paths into a shard's own directory)
    blobs: Mapping[str, int] = field(default_factory=dict)  # digest -> size of what a copy moves; {} when unknown
    requires: Tuple[str, ...] = ()  # keys that must go with it (a bundle's related images)


@dataclass
class Cut:
    shard_of: Dict[str, int]  # key -> shard
    bytes: List[int]  # per shard: what its images move, split blobs counted on every shard that needs them
    images: List[int]  # per shard
    split: Dict[str, Tuple[int, ...]]  # blob -> the shards that need it, where more than one does
    sizes: Dict[str, int]  # blob -> size
    fair_share: int

    def keys(self, shard: int) -> List[str]:
        return [key for key, where in self.shard_of.items() if where == shard]

    def split_bytes(self, shard: int) -> Tuple[int, int]:
        """(blobs, bytes) this shard needs that another shard needs too."""
        mine = [blob for blob, shards in self.split.items() if shard in shards]
        return len(mine), sum(self.sizes[blob] for blob in mine)


class _Groups:
    """Union-find over items, each group knowing its blobs (and so its bytes, each blob once)."""

    def __init__(self, items: Sequence[Item]):
        self.parent = list(range(len(items)))
        self.blobs: Dict[int, Dict[str, int]] = {i: dict(item.blobs) for i, item in enumerate(items)}
        self.size: Dict[int, int] = {i: sum(blobs.values()) for i, blobs in self.blobs.items()}

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def fits(self, roots: Sequence[int], limit: int) -> bool:
        """Whether the groups joined hold at most `limit` bytes (stops counting once past it)."""
        if sum(self.size[root] for root in roots) <= limit:
            return True
        largest = max(roots, key=lambda root: len(self.blobs[root]))
        seen, total = dict(self.blobs[largest]), self.size[largest]
        for root in roots:
            for blob, size in self.blobs[root].items():
                if blob not in seen:
                    seen[blob] = size
                    total += size
                    if total > limit:
                        return False
        return total <= limit

    def join(self, roots: Sequence[int]) -> None:
        largest = max(roots, key=lambda root: len(self.blobs[root]))
        for root in roots:
            if root != largest:
                self.parent[root] = largest
                self.blobs[largest].update(self.blobs.pop(root))
                del self.size[root]
        self.size[largest] = sum(self.blobs[largest].values())


def cut(items: Sequence[Item], count: int) -> Cut:
    """Which shard copies each item; the same items and count give the same cut, in any process."""
    if count < 1:
        raise ValueError("the number of shards must be at least 1")
    position = {item.key: i for i, item in enumerate(items)}
    if len(position) != len(items):
        raise ValueError("two items have the same key")
    sizes: Dict[str, int] = {}
    users: Dict[str, List[int]] = {}
    for i, item in enumerate(items):
        for blob, size in item.blobs.items():
            sizes[blob] = size
            users.setdefault(blob, []).append(i)
    fair_share = -(-sum(sizes.values()) // count)
    groups = _Groups(items)
    for i, item in enumerate(items):  # kept together whatever their size: only one process can keep the order
        for required in item.requires:
            if required in position:
                roots = sorted({groups.find(i), groups.find(position[required])})
                if len(roots) > 1:
                    groups.join(roots)
    for blob in sorted(users, key=lambda digest: (len(users[digest]), -sizes[digest], digest)):
        roots = sorted({groups.find(i) for i in users[blob]})
        if len(roots) < 2:
            continue
        if groups.fits(roots, fair_share):
            groups.join(roots)
    members: Dict[int, List[int]] = {}
    for i in range(len(items)):
        members.setdefault(groups.find(i), []).append(i)
    ordered = sorted(members.items(), key=lambda group: (-groups.size[group[0]],
                                                          min(items[i].key for i in group[1])))
    loads, counts = [0] * count, [0] * count
    held: List[Set[str]] = [set() for _ in range(count)]  # a blob counts once per shard, however many images
    shard_of: Dict[str, int] = {}
    for root, indexes in ordered:
        blobs = groups.blobs[root]

        def load_with(shard: int) -> Tuple[int, int, int]:
            return loads[shard] + sum(size for blob, size in blobs.items() if blob not in held[shard]), \
                counts[shard], shard

        lightest = min(range(count), key=load_with)
        loads[lightest] = load_with(lightest)[0]
        held[lightest].update(blobs)
        counts[lightest] += len(indexes)
        for i in indexes:
            shard_of[items[i].key] = lightest
    split: Dict[str, Tuple[int, ...]] = {}
    for blob, indexes in users.items():
        needing: Set[int] = {shard_of[items[i].key] for i in indexes}
        if len(needing) > 1:
            split[blob] = tuple(sorted(needing))
    return Cut({item.key: shard_of[item.key] for item in items}, loads, counts, split, sizes, fair_share)
