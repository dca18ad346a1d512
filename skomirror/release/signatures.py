"""Release signatures: fetched per payload digest, kept with the mirror, shipped as a ConfigMap.

The cluster verifies payloads against them (not skomirror: they are OpenPGP
messages, checked by the cluster-version operator with Red Hat's keys).
"""

import base64
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterable

CONFIGMAP_NAME = "mirrored-release-signatures"
CONFIGMAP_NAMESPACE = "openshift-config-managed"
SIGNATURE_LABEL = "release.openshift.io/verification-signatures"


def signature_key(digest: str) -> str:
    """`sha256-<hex>-1`, the key the cluster-version operator looks for."""
    return digest.replace(":", "-") + "-1"


def fetch_signature(base_url: str, digest: str, timeout: float = 60.0) -> bytes:
    url = f"{base_url.rstrip('/')}/{digest.replace(':', '=')}/signature-1"
    with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout) as response:
        return response.read()


def save_signature(directory: Path, digest: str, signature: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / signature_key(digest)
    path.write_bytes(signature)
    return path


def load_signatures(directory: Path, digests: Iterable[str]) -> Dict[str, bytes]:
    found = {}
    for digest in digests:
        path = directory / signature_key(digest)
        if path.is_file():
            found[digest] = path.read_bytes()
    return found


def signature_configmap(signatures: Dict[str, bytes], annotations: Dict[str, str]) -> dict:
    """The ConfigMap the cluster-version operator reads; `annotations` come from the caller, like every resource's."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CONFIGMAP_NAME, "namespace": CONFIGMAP_NAMESPACE, "labels": {SIGNATURE_LABEL: ""},
                         "annotations": annotations},
            "binaryData": {signature_key(digest): base64.b64encode(data).decode()
                           for digest, data in sorted(signatures.items())}}
