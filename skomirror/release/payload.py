"""What a release payload image says about itself: its version and its component images.

`oc adm release new` writes /release-manifests as the last layer, so layers are
read from the last one down until `image-references` (an ImageStream: one tag
per component, each `from` a digest reference) and `release-metadata` are found.
"""

import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import yaml

from skomirror.imagefs import image_config, layer_digests, layer_members, member_path, platform_manifest
from skomirror.manifests import parse_manifest
from skomirror.release.cincinnati import ARCH_TAGS, ReleaseCollectionError
from skomirror.store import Store

IMAGE_REFERENCES = "release-manifests/image-references"
RELEASE_METADATA = "release-manifests/release-metadata"
BOOT_IMAGES = "release-manifests/0000_50_installer_coreos-bootimages.yaml"  # where kubeVirtContainer's image is
# the update service's and Go's architecture names -> CoreOS stream metadata's
STREAM_ARCHITECTURES = {"amd64": "x86_64", "arm64": "aarch64", "ppc64le": "ppc64le", "s390x": "s390x"}
KUBEVIRT = "kube-virt-container"
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
    boot_images: Optional[bytes] = None  # the coreos-bootimages ConfigMap, when the payload has one

    def kubevirt_components(self) -> Tuple[List[Component], str]:
        """The KubeVirt container disk images the payload names (oc-mirror's kubeVirtContainer), or why none.

        One per architecture of a multi payload (named with the architecture, as oc-mirror names them).
        """
        if self.boot_images is None:
            return [], f"no {BOOT_IMAGES} in release {self.version}"
        try:
            stream = json.loads(yaml.safe_load(self.boot_images)["data"]["stream"])
            architectures = stream["architectures"]
        except (yaml.YAMLError, ValueError, KeyError, TypeError) as exc:
            return [], f"release {self.version}: unreadable {BOOT_IMAGES}: {exc}"
        wanted = list(STREAM_ARCHITECTURES) if self.architecture == "multi" else [self.architecture]
        found = []
        for arch in wanted:
            entry = ((architectures.get(STREAM_ARCHITECTURES.get(arch, arch)) or {}).get("images") or {})
            reference = (entry.get("kubevirt") or {}).get("digest-ref") if isinstance(entry, dict) else None
            if isinstance(reference, str) and reference:
                found.append(Component(f"{KUBEVIRT}-{arch}" if self.architecture == "multi" else KUBEVIRT,
                                       reference))
        return found, "" if found else f"release {self.version} names no kubevirt image for {', '.join(wanted)}"

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
            if name in (IMAGE_REFERENCES, RELEASE_METADATA, BOOT_IMAGES) and name not in found and \
                    content is not None:
                found[name] = content
        if IMAGE_REFERENCES in found and RELEASE_METADATA in found:  # the same layer holds all three
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
    return Payload(version, architecture, components, found.get(BOOT_IMAGES))
