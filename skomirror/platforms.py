"""Choosing some platforms of a multi-arch image, as an ISC's `platforms` asks.

skopeo cannot copy an arbitrary set of platforms (it offers one, all, or the
index alone), so skomirror copies each chosen platform's manifest by digest and
then writes the index itself (skomirror.execution.sparse). This module is the
pure part: which children an index keeps, and the two indexes that can stand
for them: the source's own, unchanged and now sparse (same digest, so pulls by
digest keep working), and one rewritten to list only the kept children, for
registries that refuse a sparse index (distribution 2.x checks that every child
exists).
"""

import json
from typing import Iterable, List, Optional, Sequence, Tuple

from skomirror.manifests import Descriptor, Manifest, digest_of
from skomirror.records import PlatformSelection

# GOARCH names, as container images record them; what people also write.
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm",
                 "i386": "386", "i686": "386"}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}


def normalize(platform: str) -> str:
    """`os/architecture[/variant]` with the architecture spelled as Go spells it."""
    parts = platform.split("/")
    if len(parts) > 1:
        parts[1] = _ARCH_ALIASES.get(parts[1], parts[1])
    return "/".join(parts)


def platform_text(os: Optional[str], architecture: Optional[str], variant: Optional[str] = None) -> str:
    """The one spelling used everywhere past the config: linux/arm64/v8."""
    return normalize("/".join(part for part in (os or "linux", architecture or "", variant or "") if part))


def _fields(platform: str) -> Tuple[str, str, str]:
    os, _, rest = normalize(platform).partition("/")
    architecture, _, variant = rest.partition("/")
    return os, architecture, variant


def _fits(wanted: str, offered: str) -> int:
    """0 when `offered` cannot serve `wanted`; higher is a better fit (as containers/image chooses)."""
    want_os, want_arch, want_variant = _fields(wanted)
    os, architecture, variant = _fields(offered)
    if (want_os, want_arch) != (os, architecture):
        return 0
    default = _DEFAULT_VARIANT.get(architecture, "")
    if want_variant:
        return 3 if (variant or default) == want_variant else 0
    return 3 if variant in ("", default) else 1


def choose(children: Sequence[Descriptor], wanted: Iterable[str]) -> Tuple[List[Descriptor], List[str]]:
    """For each wanted platform, the best child; returns (kept children in index order, platforms not found)."""
    kept, missing = set(), []
    for platform in wanted:
        scored = [(_fits(platform, child.platform), -position, child.digest)
                  for position, child in enumerate(children)]
        best = max(scored, default=(0, 0, ""))
        if best[0] == 0:
            missing.append(platform)
        else:
            kept.add(best[2])
    return [child for child in children if child.digest in kept], missing


def rewritten_index(raw: bytes, kept: Iterable[str]) -> bytes:
    """The index with only the kept children, other fields as they were; deterministic bytes."""
    document = json.loads(raw)
    keep = set(kept)
    document["manifests"] = [entry for entry in document.get("manifests") or [] if entry.get("digest") in keep]
    return json.dumps(document, separators=(",", ":"), sort_keys=False).encode()


def selection_of(index: Manifest, raw: bytes, kept: Iterable[str],
                 missing: Sequence[str] = ()) -> Optional[PlatformSelection]:
    """The selection keeping the children `kept` of an index; None when that is every child."""
    keep = set(kept)
    kept_digests = tuple(child.digest for child in index.children if child.digest in keep)
    if len(kept_digests) == len(index.children):
        return None
    rewritten = rewritten_index(raw, kept_digests)
    dropped = tuple(child.platform or child.digest for child in index.children if child.digest not in keep)
    return PlatformSelection(index.digest, raw, index.media_type, kept_digests, dropped, tuple(missing),
                             rewritten, digest_of(rewritten))


def select(index: Manifest, raw: bytes, wanted: Sequence[str], image: str) -> Optional[PlatformSelection]:
    """The selection an index needs for `wanted`, or None when every child is wanted anyway.

    Raises ValueError naming the image when none of the wanted platforms is in the index: copying
    all of them instead would be the silent overreach the filter is there to prevent.
    """
    kept, missing = choose(index.children, wanted)
    if not kept:
        offered = ", ".join(child.platform or "unknown" for child in index.children) or "none"
        raise ValueError(f"{image} has none of the platforms {', '.join(wanted)} (it has {offered})")
    return selection_of(index, raw, (child.digest for child in kept), missing)
