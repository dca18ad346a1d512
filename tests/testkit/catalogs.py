"""Small, deterministic operator catalogs (FBC) and catalog images, for tests and the demo.

A catalog is described compactly: package -> default channel and channels, each
channel a list of (bundle, replaces, skips). A bundle's version is read from its
name (`foo.v1.2.0` is 1.2.0).
"""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from testkit.images import Image, make_image, make_index, make_layer, simple_image

CONFIGS_LABEL = "operators.operatorframework.io.index.configs.v1"
Entry = Tuple[str, Optional[str], Sequence[str]]  # name, replaces, skips


def version_of(bundle: str) -> str:
    return bundle.split(".v", 1)[1]


def fbc_documents(spec: Dict[str, dict], related: Callable[[str, str], List[str]] = lambda package, bundle: [],
                  bundle_image: Callable[[str, str], str] = lambda package, bundle: f"quay.io/test/{bundle}:1",
                  extra: Sequence[dict] = ()) -> List[dict]:
    """spec: {package: {"default": channel, "channels": {channel: [(bundle, replaces, skips), ...]}}}."""
    documents: List[dict] = []
    for package, description in spec.items():
        documents.append({"schema": "olm.package", "name": package, "defaultChannel": description["default"]})
        bundles: Dict[str, None] = {}
        for channel, entries in description["channels"].items():
            channel_entries = []
            for name, replaces, skips in entries:
                entry = {"name": name}
                if replaces:
                    entry["replaces"] = replaces
                if skips:
                    entry["skips"] = list(skips)
                channel_entries.append(entry)
                bundles[name] = None
            documents.append({"schema": "olm.channel", "package": package, "name": channel,
                              "entries": channel_entries})
        for bundle in bundles:
            image = bundle_image(package, bundle)
            documents.append({
                "schema": "olm.bundle", "name": bundle, "package": package, "image": image,
                "properties": [{"type": "olm.package", "value": {"packageName": package,
                                                                 "version": version_of(bundle)}}],
                "relatedImages": [{"name": "", "image": image}] +
                                 [{"name": f"related-{i}", "image": ref}
                                  for i, ref in enumerate(related(package, bundle))],
            })
    return documents + list(extra)


def fbc_files(documents: List[dict]) -> Dict[str, bytes]:
    """configs/<package>/catalog.json streams, as opm lays them out."""
    by_package: Dict[str, List[dict]] = {}
    for document in documents:
        package = document["name"] if document["schema"] == "olm.package" else document.get("package") or ""
        by_package.setdefault(package, []).append(document)
    return {f"configs/{package}/catalog.json" if package else "configs/global.json":
            "".join(json.dumps(d, indent=2) + "\n" for d in docs).encode() for package, docs in by_package.items()}


def catalog_image(documents: List[dict], name: str = "catalog", architecture: str = "amd64",
                  old_configs: Optional[List[dict]] = None) -> Image:
    """An FBC catalog image: a base layer, optionally an older configs layer, then the configs layer."""
    layers = [make_layer(f"{name}/opm-base", 20_000, {"bin/opm": b"#!/bin/sh\n"})]
    if old_configs is not None:
        layers.append(make_layer(f"{name}/old", 0, fbc_files(old_configs)))
    layers.append(make_layer(f"{name}/configs/{architecture}", 0, fbc_files(documents)))
    return make_image(layers, architecture=architecture, labels={CONFIGS_LABEL: "/configs"},
                      cmd=["serve", "/configs", "--cache-dir=/tmp/cache"])


def multi_arch_catalog(documents: List[dict], name: str = "catalog") -> object:
    return make_index([catalog_image(documents, name, arch) for arch in ("amd64", "arm64")])


@dataclass
class SeededCatalog:
    reference: str  # the catalog image, host/repository:tag
    bundles: Dict[str, str]  # bundle name -> its bundle image, by digest
    related: Dict[str, List[str]]  # bundle name -> its related images, by digest
    documents: List[dict]


def seed_catalog(registry, spec: Dict[str, dict], repository: str = "catalogs/test-index", tag: str = "v1",
                 multi_arch: bool = True, missing_related: Sequence[str] = ()) -> SeededCatalog:
    """Push every bundle image and related image of `spec`, then a catalog referencing them by digest.

    Each bundle has its own operand image and shares one proxy image with every other bundle;
    bundles named in `missing_related` reference an operand that was never pushed.
    """
    host = registry.host
    shared = f"{host}/shared/kube-rbac-proxy@{registry.push('shared/kube-rbac-proxy', 'v1', simple_image('proxy'))}"
    bundles: Dict[str, str] = {}
    related: Dict[str, List[str]] = {}
    for package, description in spec.items():
        for entries in description["channels"].values():
            for name, _, _ in entries:
                if name in bundles:
                    continue
                version = version_of(name)
                bundle_digest = registry.push(f"{package}/{package}-bundle", version, simple_image(f"{name}-bundle"))
                bundles[name] = f"{host}/{package}/{package}-bundle@{bundle_digest}"
                if name in missing_related:
                    operand = f"{host}/{package}/{package}-operand@sha256:{'0' * 64}"
                else:
                    operand_digest = registry.push(f"{package}/{package}-operand", version,
                                                   simple_image(f"{name}-operand", (3000,)))
                    operand = f"{host}/{package}/{package}-operand@{operand_digest}"
                related[name] = [operand, shared]
    documents = fbc_documents(spec, related=lambda package, bundle: related[bundle],
                              bundle_image=lambda package, bundle: bundles[bundle])
    image = multi_arch_catalog(documents, repository) if multi_arch else catalog_image(documents, repository)
    registry.push(repository, tag, image)
    return SeededCatalog(f"{host}/{repository}:{tag}", bundles, related, documents)


def catalog_layout(reference: str, directory, tag: str = "v1") -> str:
    """Copy a catalog image (from a test registry) into an OCI layout of its own, as a user would make one for
    `catalog: oci://DIR`; returns the digest the layout's index.json names."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--all", "--src-tls-verify=false",
                    f"docker://{reference}", f"oci:{directory}:{tag}"], check=True, capture_output=True)
    return json.loads((directory / "index.json").read_text())["manifests"][0]["digest"]
