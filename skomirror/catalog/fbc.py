"""File-based catalogs (FBC): reading a configs directory, and writing a filtered one.

Every regular file under the directory is a stream of JSON objects (pretty
printed back to back, as Red Hat writes them) or of YAML documents. Objects
keep their full JSON, so a filtered catalog is written back with every field
it had; only the schemas the filter needs are read into typed objects.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import yaml

from skomirror.catalog.semver import Version, parse_optional
from skomirror.errors import SkomirrorError

PACKAGE, CHANNEL, BUNDLE, DEPRECATIONS = "olm.package", "olm.channel", "olm.bundle", "olm.deprecations"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(SkomirrorError):
    pass


@dataclass
class ChannelEntry:
    name: str
    replaces: Optional[str] = None
    skips: List[str] = field(default_factory=list)


@dataclass
class Channel:
    package: str
    name: str
    entries: List[ChannelEntry]
    raw: dict

    def with_entries(self, names) -> "Channel":
        kept = [entry for entry in self.entries if entry.name in names]
        raw = dict(self.raw, entries=[e for e in self.raw.get("entries") or [] if e.get("name") in names])
        return Channel(self.package, self.name, kept, raw)


@dataclass
class Bundle:
    package: str
    name: str
    image: str
    version: Optional[Version]
    related_images: List[str]
    raw: dict


@dataclass
class Catalog:
    packages: Dict[str, dict] = field(default_factory=dict)  # name -> raw olm.package
    channels: List[Channel] = field(default_factory=list)
    bundles: Dict[str, Dict[str, Bundle]] = field(default_factory=dict)  # package -> name -> bundle
    deprecations: List[dict] = field(default_factory=list)
    others: List[dict] = field(default_factory=list)  # schemas we do not interpret, kept verbatim

    def default_channel(self, package: str) -> Optional[str]:
        return (self.packages.get(package) or {}).get("defaultChannel")

    def channels_of(self, package: str) -> List[Channel]:
        return [channel for channel in self.channels if channel.package == package]

    def all_bundles(self) -> List[Bundle]:
        return [bundle for package in sorted(self.bundles) for _, bundle in sorted(self.bundles[package].items())]


def _objects(path: Path) -> Iterator[dict]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if not stripped:
        return
    if stripped.startswith("{"):
        decoder, position = json.JSONDecoder(), len(text) - len(stripped)
        while position < len(text):
            try:
                document, end = decoder.raw_decode(text, position)
            except ValueError as exc:
                raise CatalogError(f"{path}: not a JSON stream: {exc}") from None
            yield document
            position = end
            while position < len(text) and text[position].isspace():
                position += 1
        return
    try:
        documents = list(yaml.load_all(text, Loader=_YAML_LOADER))
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: neither a JSON stream nor YAML: {exc}") from None
    yield from (document for document in documents if document is not None)


def add_object(catalog: Catalog, document: dict, where: str) -> None:
    if not isinstance(document, dict) or not document.get("schema"):
        raise CatalogError(f"{where}: an object without a schema field")
    schema = document["schema"]
    if schema == PACKAGE:
        catalog.packages[document["name"]] = document
    elif schema == CHANNEL:
        entries = [ChannelEntry(entry["name"], entry.get("replaces") or None, list(entry.get("skips") or []))
                   for entry in document.get("entries") or []]
        catalog.channels.append(Channel(document["package"], document["name"], entries, document))
    elif schema == BUNDLE:
        version = next((parse_optional(str(prop["value"].get("version")))
                        for prop in document.get("properties") or []
                        if prop.get("type") == PACKAGE and isinstance(prop.get("value"), dict)), None)
        related = [item.get("image") for item in document.get("relatedImages") or [] if item.get("image")]
        bundle = Bundle(document["package"], document["name"], document.get("image") or "", version, related,
                        document)
        catalog.bundles.setdefault(bundle.package, {})[bundle.name] = bundle
    elif schema == DEPRECATIONS:
        catalog.deprecations.append(document)
    else:
        catalog.others.append(document)


def load_catalog(configs: Path) -> Catalog:
    """Every regular file below `configs`, in a stable order."""
    catalog = Catalog()
    for path in sorted(p for p in configs.rglob("*") if p.is_file() and not p.name.startswith(".")):
        for document in _objects(path):
            try:
                add_object(catalog, document, str(path))
            except (KeyError, TypeError, AttributeError) as exc:
                raise CatalogError(f"{path}: malformed catalog object ({exc})") from None
    return catalog


def write_catalog(catalog: Catalog, configs: Path) -> None:
    """One directory per package with a catalog.json stream, as `opm`'s WriteFS lays it out."""
    by_package: Dict[str, List[dict]] = {}
    for name, package in catalog.packages.items():
        by_package.setdefault(name, []).append(package)
    for channel in sorted(catalog.channels, key=lambda c: (c.package, c.name)):
        by_package.setdefault(channel.package, []).append(channel.raw)
    for bundle in catalog.all_bundles():
        by_package.setdefault(bundle.package, []).append(bundle.raw)
    for deprecation in catalog.deprecations:
        by_package.setdefault(deprecation.get("package", ""), []).append(deprecation)
    for other in catalog.others:
        by_package.setdefault(other.get("package") or "", []).append(other)
    configs.mkdir(parents=True, exist_ok=True)
    for package, documents in sorted(by_package.items()):
        directory = configs / package if package else configs
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "catalog.json", "w", encoding="utf-8") as out:
            for document in documents:
                out.write(json.dumps(document, indent=4) + "\n")
