"""A repository's tags, listed once per run instead of asking for each tag.

Used where most answers are "not there": the source's cosign signature tags
(most images are unsigned; see skomirror.signatures) and the destination's
tags on a first run (see DestinationTags). A tag absent from a complete list
is absent with no request; one in it is still asked for, for its digest.

The distribution API pages a tag list with `n` and `last` and announces a
further page with a `Link: <...>; rel="next"` header; quay.io serves at most
100 tags a page whatever `n` asks and sends that Link (its big repositories,
ocp-v4.0-art-dev, are never whole in one page); distribution 2.8 ignores `n`
and sends every tag. A list is used only without that Link and with fewer
than `n` tags; one of exactly a common page size (100, 200...) only once the
tags after its last are none, so a registry cutting a page without a Link
cannot hide a tag. A Link, a refusal (401, 403, a source's 404), a timeout or
mirrors in registries.conf mean a request per tag in that repository, as
without a list: one request more at worst (two for a page-sized list), no
failure.
"""

import json
import re
import threading
import urllib.parse
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Tuple

from skomirror.imageref import ImageRef
from skomirror.registry.client import RegistryClient, Unsupported, first_error

TAG_PAGE = 1000  # tags asked for in a repository's one listing
PAGE_CAPS = frozenset((10, 20, 25, 50, 100, 200, 250, 500))  # page sizes registries cut lists at (quay.io: 100)
LISTED_FROM = 4  # images into a destination repository from which it is listed: 3 HEADs saved cold, 1 more warm
_NEXT = re.compile(r';\s*rel="?next"?', re.IGNORECASE)  # a Link header to a further page of a list

Note = Callable[[str], None]


class _Listing:
    def __init__(self):
        self.ready = threading.Event()
        self.tags: Optional[FrozenSet[str]] = None  # None: no complete list, each tag is asked for


class RepositoryTags:
    """Each repository's tags on one side, listed once per run by the first lookup in it while the others wait.

    looked_for and absent word the log lines ("signature tag", "unsigned")."""

    def __init__(self, client: Optional[RegistryClient], on_destination: bool = False,
                 looked_for: str = "signature tag", absent: str = "unsigned"):
        self.client = client
        self.on_destination = on_destination
        self.looked_for, self.absent = looked_for, absent
        self._lock = threading.Lock()
        self._listings: Dict[Tuple[str, str], _Listing] = {}

    def lacks(self, registry: str, repository: str, tag: str, note: Note) -> bool:
        """Whether `registry/repository` surely has no `tag`: its complete tag list, read in this run, lacks it."""
        if self.client is None:
            return False
        key = (registry, repository)
        with self._lock:
            listing = self._listings.get(key)
            first = listing is None
            if first:
                listing = self._listings[key] = _Listing()
        if first:
            try:
                listing.tags = self._read(registry, repository, note)
            finally:
                listing.ready.set()
        else:
            listing.ready.wait()
        return listing.tags is not None and tag not in listing.tags

    def _page(self, registry: str, repository: str, note: Note, last: str = "") -> Optional[List[str]]:
        """The tags when one page of TAG_PAGE holds them all (no Link rel="next", fewer than TAG_PAGE), else
        None; `last`: only the tags after it. A destination repository not created yet (404 NAME_UNKNOWN) has
        none. Raises Unsupported when the list cannot be read."""
        after = f"&last={urllib.parse.quote(last, safe='')}" if last else ""
        status, headers, body = self.client.tag_list(registry, repository, f"n={TAG_PAGE}{after}",
                                                     self.on_destination, note)
        if status == 404 and self.on_destination and (first_error(body) or {}).get("code") == "NAME_UNKNOWN":
            return []
        if status != 200:
            raise Unsupported(f"{registry}/{repository}: HTTP {status} for its tag list")
        try:
            tags = json.loads(body).get("tags") or []
        except (ValueError, AttributeError):
            raise Unsupported(f"{registry}/{repository}: the tag list is no JSON object") from None
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise Unsupported(f"{registry}/{repository}: the tag list holds no list of names")
        if _NEXT.search(headers.get("link", "")) or len(tags) >= TAG_PAGE:
            return None
        return tags

    def _read(self, registry: str, repository: str, note: Note) -> Optional[FrozenSet[str]]:
        what = f"tag list of {registry}/{repository}"
        asked = f"each {self.looked_for} in it is asked for"
        try:
            tags = self._page(registry, repository, note)
        except Unsupported as exc:
            note(f"{what}: {exc}; {asked}")
            return None
        if tags is None:
            note(f"{what}: more than one page; {asked}")
            return None
        if len(tags) in PAGE_CAPS and not self._nothing_after(registry, repository, tags, note):
            note(f"{what}: {len(tags)} tags, perhaps a page cut short; {asked}")
            return None
        note(f"{what}: {len(tags)} tags; a {self.looked_for} not among them is {self.absent}, with no request")
        return frozenset(tags)

    def _nothing_after(self, registry: str, repository: str, tags: List[str], note: Note) -> bool:
        """A list of exactly a common page size may be a page cut short without a Link: asked for the tags after
        its last, a registry that pages answers none (whole) or more (cut); one that ignores `last` (distribution
        2.8) answers the same list, which it sends whole."""
        try:
            after = self._page(registry, repository, note, last=max(tags))
        except Unsupported:
            return False
        return after is not None and (not after or set(after) == set(tags))


class DestinationTags:
    """The destination's tag lists for one survey, before any copy of the run changes them.

    On a first run most destination tags are absent and a HEAD per image answers 404; a repository receiving
    LISTED_FROM images or more is listed once instead (a repository not yet created answers NAME_UNKNOWN: no
    tags), and a tag absent from its list costs no request. A present tag is still asked for its digest, so a
    no-op rerun pays one request more per such repository. A smaller repository is asked a HEAD per image, as
    before. Drop the lists once copies start: they would say absent what was just copied."""

    def __init__(self, client: Optional[RegistryClient]):
        self.tags = RepositoryTags(client, on_destination=True, looked_for="destination tag", absent="absent")
        self._counts: Dict[str, int] = {}

    def expect(self, repositories: Iterable[str]) -> None:
        """The destination repository (PlannedImage.destination_repository) of each image the survey will ask
        about, counted."""
        for repository in repositories:
            self._counts[repository] = self._counts.get(repository, 0) + 1

    def lacks(self, repository: str, destination: str, note: Note) -> bool:
        """Whether `destination` (a docker:// spec into `repository`) surely has nothing under its tag; always
        False for a digest, and without a request for a repository few images go to."""
        if self._counts.get(repository, 0) < LISTED_FROM:
            return False
        reference = ImageRef.parse(destination)
        if reference.digest or not reference.tag:
            return False
        return self.tags.lacks(reference.registry, reference.path, reference.tag, note)
