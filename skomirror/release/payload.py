"""What a release payload image says about itself: its version and its component images.

`oc adm release new` writes /release-manifests as the last layer, so layers are
read from the last one down until `image-references` (an ImageStream: one tag
per component, each `from` a digest reference) and `release-metadata` are found.
"""

import json
from dataclasses import dataclass
from typing import Dict, List

from skomirror.imagefs import image_config, layer_digests, layer_members, member_path, platform_manifest
from skomirror.manifests import parse_manifest
from skomirror.release.cincinnati import ARCH_TAGS, ReleaseCollectionError
from skomirror.store import Store

IMAGE_REFERENCES = "release-manifests/image-references"
RELEASE_METADATA = "release-manifests/release-metadata"
MAX_TAG = 127  # oc-mirror truncates longer tags


@dataclass(frozen=True)
class Component:
    name: str
    image: str


@dataclass(frozen=True)
class Payload:
    version: str
    architecture: str  # GOARCH as the update service names it, or "multi"
    components: List[Component]

    @property
    def tag(self) -> str:
        """oc-mirror's release tag: `<version>-<x86_64|aarch64|ppc64le|s390x|multi>`."""
        return f"{self.version}-{ARCH_TAGS.get(self.architecture, self.architecture)}"

    def component_tag(self, component: Component) -> str:
        return f"{self.tag}-{component.name}"[:MAX_TAG]


def read_payload(store: Store, digest: str, where: str) -> Payload:
    top = parse_manifest(store.read_blob(digest))
    manifest = platform_manifest(store, top)
    found: Dict[str, bytes] = {}
    for layer in reversed(layer_digests(store, manifest)):
        for member, content in layer_members(store, layer):
            name = str(member_path(member.name) or "")
            if name in (IMAGE_REFERENCES, RELEASE_METADATA) and name not in found and content is not None:
                found[name] = content
        if len(found) == 2:
            break
    if IMAGE_REFERENCES not in found:
        raise ReleaseCollectionError(f"{where}: no {IMAGE_REFERENCES} in the image: is it a release payload?")
    try:
        references = json.loads(found[IMAGE_REFERENCES])
        metadata = json.loads(found.get(RELEASE_METADATA, b"{}"))
        components = [Component(tag["name"], tag["from"]["name"]) for tag in references["spec"]["tags"]
                      if (tag.get("from") or {}).get("kind", "DockerImage") == "DockerImage"]
        version = metadata.get("version") or references["metadata"]["name"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ReleaseCollectionError(f"{where}: unreadable {IMAGE_REFERENCES}: {exc}") from None
    architecture = "multi" if top.is_index else image_config(store, manifest).get("architecture", "amd64")
    return Payload(version, architecture, components)
