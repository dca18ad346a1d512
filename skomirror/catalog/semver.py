"""Semantic versions as catalog-filter compares them (Masterminds semver v3).

Lenient parsing (`v1.2` is 1.2.0), build metadata ignored, and the prerelease
rule of constraints: a range written without prereleases does not match a
prerelease version (`>=0.18.1` does not match `0.19.0-1`).
"""

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Optional, Tuple, Union

from skomirror.errors import shown

_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?\Z")


class InvalidVersion(ValueError):
    pass


def _identifier(part: str) -> Tuple[int, Union[int, str]]:
    """Numeric identifiers sort below alphanumeric ones, and numerically among themselves."""
    return (0, int(part)) if part.isdigit() else (1, part)


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: Tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> "Version":
        match = _VERSION.match(text.strip())
        if not match:
            raise InvalidVersion(f"{shown(text)} is not a semantic version")
        major, minor, patch, prerelease, _build = match.groups()
        return cls(int(major), int(minor or 0), int(patch or 0), tuple(prerelease.split(".")) if prerelease else (),
                   text)

    def _key(self):
        # a release sorts after all of its prereleases
        pre = tuple(_identifier(part) for part in self.prerelease)
        return self.major, self.minor, self.patch, (1,) if not pre else (0, pre)

    def __lt__(self, other: "Version") -> bool:
        return self._key() < other._key()

    def __eq__(self, other) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.text or f"{self.major}.{self.minor}.{self.patch}"


def parse_optional(text: Optional[str]) -> Optional[Version]:
    try:
        return Version.parse(text) if text else None
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class VersionRange:
    """`>=minimum <=maximum`, either bound optional, as oc-mirror builds it from minVersion/maxVersion."""

    minimum: Optional[Version] = None
    maximum: Optional[Version] = None

    @property
    def pinned(self) -> bool:
        return self.minimum is not None and self.maximum is not None and self.minimum.text == self.maximum.text

    def contains(self, version: Optional[Version]) -> bool:
        if version is None:
            return False
        bounds = [bound for bound in (self.minimum, self.maximum) if bound is not None]
        if version.prerelease and not any(bound.prerelease for bound in bounds):
            return False
        if self.minimum is not None and version < self.minimum:
            return False
        return not (self.maximum is not None and version > self.maximum)

    def __bool__(self) -> bool:
        return self.minimum is not None or self.maximum is not None

    def __str__(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f">={self.minimum}")
        if self.maximum is not None:
            parts.append(f"<={self.maximum}")
        return " ".join(parts)
