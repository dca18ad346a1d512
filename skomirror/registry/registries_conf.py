"""registries.conf as skopeo reads it: which host each pull really goes to.

A `[[registry]]` entry can rewrite a name (`location`), put mirrors in front of
it (`[[registry.mirror]]`), block it, or allow plain HTTP (`insecure`). skopeo
follows all of that, so the survey must too, or it asks a host the copy never
touches. The rules are containers/image's (pkg/sysregistriesv2): the files it
reads and their order, drop-ins merged by prefix, the longest matching prefix
wins, mirrors first and the primary location last. A file that cannot be read
the same way sets `problem`, and the survey then leaves every image to skopeo.

CONTAINERS_REGISTRIES_CONF is honoured as podman honours it. skopeo itself
ignores that variable, so skomirror passes the file on as `--registries-conf`
(skopeo/command.py): survey and copies read the same configuration.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

from skomirror.registry.toml_subset import TomlError, parse_toml

ENVIRONMENT_VARIABLE = "CONTAINERS_REGISTRIES_CONF"
SYSTEM_FILE = Path("/etc/containers/registries.conf")
SYSTEM_DROP_INS = Path("/etc/containers/registries.conf.d")
USER_FILE = Path(".config/containers/registries.conf")  # under $HOME
USER_DROP_INS = Path(".config/containers/registries.conf.d")
AUTH_FILE_HELPER = "containers-auth.json"  # the credential helper that means "the auth files"
_PULL_FROM_MIRROR = ("", "all", "digest-only", "tag-only")


class ConfError(ValueError):
    """A registries.conf skopeo would refuse or that this reader cannot follow."""


@dataclass(frozen=True)
class Endpoint:
    location: str  # host[:port][/namespace]; "" for a wildcard prefix's primary (the name itself)
    insecure: bool = False
    pull_from_mirror: str = ""


@dataclass(frozen=True)
class PullSource:
    name: str  # host[:port]/path to ask
    insecure: bool  # plain HTTP allowed, certificates not verified
    mirror: bool


@dataclass(frozen=True)
class RegistryEntry:
    prefix: str
    primary: Endpoint
    mirrors: Tuple[Endpoint, ...] = ()
    blocked: bool = False
    mirror_by_digest_only: bool = False

    def pull_sources(self, name: str, by_digest: bool) -> List[PullSource]:
        """Where a pull of `name` goes, in skopeo's order: the mirrors that apply, then the primary."""
        mirrors = [mirror for mirror in self.mirrors
                   if (by_digest if self.mirror_by_digest_only else
                       mirror.pull_from_mirror != ("tag-only" if by_digest else "digest-only"))]
        length = matching_prefix_length(name, self.prefix)
        return [PullSource(endpoint.location + name[length:] if endpoint.location else name, endpoint.insecure,
                           endpoint is not self.primary) for endpoint in mirrors + [self.primary]]


def matching_prefix_length(name: str, prefix: str) -> int:
    """How much of `name` (host/path) `prefix` matches, -1 for no match; `*.example.com` matches subdomains."""
    if prefix.startswith("*."):
        index = name.find(prefix[1:])
        if index < 0 or "/" in name[:index]:
            return -1
        end = index + len(prefix) - 1
    elif name.startswith(prefix):
        end = len(prefix)
    else:
        return -1
    return end if end == len(name) or name[end] in ":/@" else -1


def _location(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ConfError(f"{what} must be a string")
    trimmed = value.rstrip("/")
    if trimmed.startswith(("http://", "https://")):
        raise ConfError(f"invalid location {value!r}: URI schemes are not supported")
    return trimmed


def _flag(table: dict, key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfError(f"{key} must be true or false")
    return value


def _text(table: dict, key: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ConfError(f"{key} must be a string")
    return value


def _entry(table: object) -> RegistryEntry:
    if not isinstance(table, dict):
        raise ConfError("each [[registry]] must be a table")
    location = _location(table.get("location", ""), "location")
    prefix = _location(table["prefix"], "prefix") if table.get("prefix") else location
    if not prefix:
        raise ConfError("a [[registry]] has neither location nor prefix")
    if not location and not prefix.startswith("*."):
        raise ConfError(f"registry {prefix!r}: location is unset and prefix is not *.example.com")
    if prefix.startswith("*.") and any(char in prefix for char in "/@:"):
        raise ConfError(f"wildcarded prefix {prefix!r} should be in the format *.example.com")
    if _text(table, "pull-from-mirror"):
        raise ConfError(f"pull-from-mirror must not be set for a non-mirror registry {prefix!r}")
    by_digest = _flag(table, "mirror-by-digest-only")
    mirrors = table.get("mirror", [])
    if not isinstance(mirrors, list) or not all(isinstance(mirror, dict) for mirror in mirrors):
        raise ConfError(f"registry {prefix!r}: mirror must be a list of tables")
    endpoints = []
    for mirror in mirrors:
        mirror_location = _location(mirror.get("location", ""), "mirror location")
        pull_from = _text(mirror, "pull-from-mirror")
        if not mirror_location:
            raise ConfError(f"registry {prefix!r}: a mirror location is unset")
        if pull_from not in _PULL_FROM_MIRROR or (pull_from and by_digest):
            raise ConfError(f"registry {prefix!r}: unusable pull-from-mirror {pull_from!r} for {mirror_location}")
        endpoints.append(Endpoint(mirror_location, _flag(mirror, "insecure"), pull_from))
    return RegistryEntry(prefix, Endpoint(location, _flag(table, "insecure")), tuple(endpoints),
                         _flag(table, "blocked"), by_digest)


def _v1_entries(registries: dict) -> List[RegistryEntry]:
    """The old `[registries.block]` / `[registries.insecure]` lists as entries (search is skopeo's business)."""
    flags: Dict[str, Dict[str, bool]] = {}
    for kind in ("block", "insecure"):
        names = (registries.get(kind) or {}).get("registries", [])
        if not isinstance(names, list):
            raise ConfError(f"registries.{kind}.registries must be a list")
        for name in names:
            flags.setdefault(_location(name, f"registries.{kind}"), {})[kind] = True
    return [RegistryEntry(name, Endpoint(name, kind.get("insecure", False)), blocked=kind.get("block", False))
            for name, kind in flags.items()]


def _is_v1(document: dict) -> bool:
    registries = document.get("registries")
    return isinstance(registries, dict) and any(
        isinstance(registries.get(kind), dict) and "registries" in registries[kind]
        for kind in ("search", "insecure", "block"))


def _read_file(path: Path, drop_in: bool) -> Tuple[List[RegistryEntry], Optional[List[str]]]:
    """The entries of one file, and its credential-helpers (None when it sets none)."""
    try:
        document = parse_toml(path.read_text())
    except TomlError as exc:
        raise ConfError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfError(f"cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    v2_keys = {"registry", "unqualified-search-registries", "credential-helpers", "short-name-mode", "aliases",
               "additional-layer-store-auth-helper"} & set(document)
    if _is_v1(document):
        if drop_in:
            raise ConfError("a drop-in must be in the v2 format ([[registry]] tables)")
        if v2_keys:
            raise ConfError("mixing the v1 and v2 registries.conf formats is not supported")
        entries = _v1_entries(document["registries"])
    else:
        tables = document.get("registry", [])
        if not isinstance(tables, list):
            raise ConfError("registry must be an array of tables ([[registry]])")
        entries = [_entry(table) for table in tables]
    mode = document.get("short-name-mode", "disabled")
    if mode not in ("disabled", "enforcing", "permissive"):
        raise ConfError(f"invalid short-name-mode {mode!r}")
    insecure: Dict[str, bool] = {}
    blocked: Dict[str, bool] = {}
    for entry in entries:  # one location named twice must agree on insecure and blocked
        where = entry.primary.location or entry.prefix
        if insecure.setdefault(where, entry.primary.insecure) != entry.primary.insecure or \
                blocked.setdefault(where, entry.blocked) != entry.blocked:
            raise ConfError(f"registry {where!r} is defined multiple times with conflicting settings")
    helpers = document.get("credential-helpers")
    if helpers is not None and (not isinstance(helpers, list) or not all(isinstance(h, str) for h in helpers)):
        raise ConfError("credential-helpers must be a list of strings")
    return entries, helpers


@dataclass
class RegistriesConf:
    entries: Dict[str, RegistryEntry] = field(default_factory=dict)  # by prefix
    credential_helpers: List[str] = field(default_factory=lambda: [AUTH_FILE_HELPER])
    explicit: Optional[Path] = None  # CONTAINERS_REGISTRIES_CONF: skopeo is given it as --registries-conf
    files: List[Path] = field(default_factory=list)  # what was read, in order
    problem: Optional[str] = None  # "<file>: <why>": nothing here is followed, skopeo is asked instead

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ, home: Optional[Path] = None) -> "RegistriesConf":
        home = Path(environ.get("HOME") or Path.home()) if home is None else home
        explicit = Path(environ[ENVIRONMENT_VARIABLE]) if environ.get(ENVIRONMENT_VARIABLE) else None
        conf = cls(explicit=explicit)
        if explicit is not None:
            main, directories = explicit, [SYSTEM_DROP_INS, home / USER_DROP_INS]
        elif (home / USER_FILE).exists():  # a user's own file replaces the system's, drop-ins and all
            main, directories = home / USER_FILE, [home / USER_DROP_INS]
        else:
            main, directories = SYSTEM_FILE, [SYSTEM_DROP_INS, home / USER_DROP_INS]
        paths = [(main, False)] if main.exists() or explicit is not None else []
        for directory in directories:
            try:
                names = sorted(entry.name for entry in os.scandir(directory)
                               if entry.name.endswith(".conf") and not entry.is_dir())
            except FileNotFoundError:
                continue
            except OSError as exc:
                conf.problem = f"{directory}: cannot read it: {exc.strerror or exc}"
                return conf
            paths += [(directory / name, True) for name in names]
        for path, drop_in in paths:
            try:
                entries, helpers = _read_file(path, drop_in)
            except ConfError as exc:
                conf.problem = f"{path}: {exc}"
                return conf
            conf.files.append(path)
            fresh: Dict[str, RegistryEntry] = {}
            for entry in entries:
                fresh.setdefault(entry.prefix, entry)  # within a file the first of a prefix wins
            conf.entries.update(fresh)  # a later file replaces an earlier one's entry for the same prefix
            if helpers is not None:
                conf.credential_helpers = helpers or [AUTH_FILE_HELPER]
        return conf

    @property
    def warnings(self) -> List[str]:
        if not self.problem:
            return []
        return [f"{self.problem}: the survey cannot follow this registries.conf and asks skopeo about every image"]

    def find(self, name: str) -> Optional[RegistryEntry]:
        """The entry with the longest prefix matching host/path `name`, if any."""
        matches = [entry for prefix, entry in sorted(self.entries.items())  # ties: the first in sorted order
                   if matching_prefix_length(name, prefix) >= 0]
        return max(matches, key=lambda entry: len(entry.prefix), default=None)
