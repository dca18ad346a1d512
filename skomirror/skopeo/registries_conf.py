"""The registries that containers' registries.conf names: skopeo may not reach them under their own name.

A `[[registry]]` entry can send skopeo elsewhere (`location`, mirrors) or block
a registry, and skopeo's copies follow it. The survey's HTTP fast path does
not know registries.conf, so for a registry named there it must step aside and
let skopeo read: what is surveyed is then what is copied, and a registry that a
bastion reaches only through its mirror is never asked directly.

Read as a superset, never less: every file skopeo 1.9 may read (the user's and
the system's registries.conf and their drop-in directories) and every registry
named by a `prefix`, `location` or v1 `registries` list in them. A registry
named needlessly only costs a skopeo process instead of a request.
"""

import os
import re
from pathlib import Path
from typing import FrozenSet, Iterable, List, Optional

_VALUE = re.compile(r"""^\s*(?:prefix|location)\s*=\s*["']([^"']*)["']""", re.MULTILINE)
_V1_LIST = re.compile(r"^\s*registries\s*=\s*\[([^\]]*)\]", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']*)["']""")


def config_files(home: Optional[Path] = None) -> List[Path]:
    home = Path(home) if home is not None else Path(os.path.expanduser("~"))
    found: List[Path] = []
    for base in (home / ".config" / "containers", Path("/etc/containers")):
        found.append(base / "registries.conf")
        found += sorted((base / "registries.conf.d").glob("*.conf"))
    return [path for path in found if path.is_file()]


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def named_hosts(texts: Iterable[str]) -> FrozenSet[str]:
    """The registry hosts (or `*.domain` patterns) the given registries.conf texts name."""
    hosts = set()
    for text in texts:
        text = _without_comments(text)
        values = _VALUE.findall(text)
        values += [quoted for items in _V1_LIST.findall(text) for quoted in _QUOTED.findall(items)]
        hosts.update(value.split("/", 1)[0] for value in values if value)
    return frozenset(hosts)


def read_named_hosts(home: Optional[Path] = None) -> FrozenSet[str]:
    texts = []
    for path in config_files(home):
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return named_hosts(texts)


def is_named(registry: str, hosts: FrozenSet[str]) -> bool:
    if registry in hosts:
        return True
    return any(pattern.startswith("*.") and registry.split(":", 1)[0].endswith(pattern[1:]) for pattern in hosts)
