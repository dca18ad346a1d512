"""Small OpenShift-shaped release payloads: release-manifests with image-references and release-metadata."""

import json
from dataclasses import dataclass
from typing import Dict, List, Optional

from skomirror.imagebuild import gzip_bytes, tar_bytes
from testkit.images import Image, make_image, make_layer, simple_image

COMPONENT_REPOSITORY = "openshift-release-dev/ocp-v4.0-art-dev"
RELEASE_REPOSITORY = "openshift-release-dev/ocp-release"


def boot_images_configmap(kubevirt: Dict[str, str]) -> bytes:
    """The installer's coreos-bootimages ConfigMap: stream metadata naming a KubeVirt image per architecture."""
    stream = {"stream": "rhcos-4.18", "architectures": {
        arch: {"artifacts": {}, "images": {"kubevirt": {"release": "418.94.0", "image": reference.split("@")[0],
                                                        "digest-ref": reference}}}
        for arch, reference in kubevirt.items()}}
    document = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "coreos-bootimages", "namespace": "openshift-machine-config-operator"},
                "data": {"releaseVersion": "4.18.0", "stream": json.dumps(stream, indent=2)}}
    return json.dumps(document).encode()  # YAML is a superset of JSON


def release_manifests(version: str, components: Dict[str, str],
                      kubevirt: Optional[Dict[str, str]] = None) -> Dict[str, bytes]:
    references = {
        "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": version, "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"lookupPolicy": {"local": False}, "tags": [
            {"name": name, "annotations": {"io.openshift.build.commit.id": "0" * 40},
             "from": {"kind": "DockerImage", "name": image}, "generation": None, "importPolicy": {},
             "referencePolicy": {"type": ""}} for name, image in sorted(components.items())]},
        "status": {"dockerImageRepository": ""},
    }
    metadata = {"kind": "cincinnati-metadata-v0", "version": version, "previous": [], "metadata": {}}
    return {"release-manifests/image-references": json.dumps(references, indent=2).encode(),
            "release-manifests/release-metadata": json.dumps(metadata, indent=2).encode(),
            "release-manifests/0000_00_cluster-version-operator_00_namespace.yaml": b"kind: Namespace\n",
            **({"release-manifests/0000_50_installer_coreos-bootimages.yaml": boot_images_configmap(kubevirt)}
               if kubevirt else {})}


def release_payload(version: str, components: Dict[str, str], architecture: str = "amd64",
                    kubevirt: Optional[Dict[str, str]] = None) -> Image:
    base = make_layer("release/base", 30_000)
    return make_image([base, make_layer(f"release/{version}/{architecture}", 0,
                                        release_manifests(version, components, kubevirt))],
                      architecture=architecture, labels={"io.openshift.release": version})


@dataclass
class SeededRelease:
    version: str
    payload: str  # host/repo@digest, as the update graph names it
    components: Dict[str, str]  # name -> host/repo@digest
    kubevirt: Optional[str] = None  # host/repo@digest of the KubeVirt container disk the payload names


def seed_releases(registry, versions: List[str], component_names: List[str],
                  kubevirt: bool = False) -> Dict[str, SeededRelease]:
    """Payloads and component images: every component changes with the version except `cli`, shared by all."""
    host = registry.host
    seeded = {}
    shared = registry.push(COMPONENT_REPOSITORY, "cli-shared", simple_image("component-cli", (4_000,)))
    for version in versions:
        components = {}
        for name in component_names:
            digest = shared if name == "cli" else registry.push(
                COMPONENT_REPOSITORY, f"{version}-{name}", simple_image(f"component-{version}-{name}", (4_000,)))
            components[name] = f"{host}/{COMPONENT_REPOSITORY}@{digest}"
        disk = None
        if kubevirt:
            disk = f"{host}/{COMPONENT_REPOSITORY}@" + registry.push(
                COMPONENT_REPOSITORY, f"{version}-kubevirt", simple_image(f"rhcos-kubevirt-{version}", (6_000,)))
        payload = registry.push(RELEASE_REPOSITORY, f"{version}-x86_64",
                                release_payload(version, components, kubevirt={"x86_64": disk} if disk else None))
        seeded[version] = SeededRelease(version, f"{host}/{RELEASE_REPOSITORY}@{payload}", components, disk)
    return seeded


def graph_data_tarball(channels: Dict[str, List[str]]) -> bytes:
    """A cincinnati-graph-data tarball: version, channels/<name>.yaml, one blocked edge (the same bytes each time)."""
    files = {"./version": b"1.1.0\n", "./blocked-edges/4.0.0.yaml": b"to: 4.0.0\nfrom: .*\n"}
    for name, versions in channels.items():
        files[f"./channels/{name}.yaml"] = (f"name: {name}\nversions:\n" +
                                            "".join(f"- {v}\n" for v in versions)).encode()
    return gzip_bytes(tar_bytes(files))  # reproducible: no gzip timestamp, so the graph image digest is stable
