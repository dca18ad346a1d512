"""Cosign-format signatures, as `cosign sign` pushes them: the tag `sha256-<hex>.sig` next to the image.

The manifest is an OCI image manifest whose one layer is a simplesigning JSON
payload carrying the signature in the `dev.cosignproject.cosign/signature`
annotation. The signature bytes are made up: nothing here verifies them.
"""

import base64
import hashlib
import json

from skomirror.imagebuild import sha256_digest
from skomirror.manifests import OCI_CONFIG, OCI_MANIFEST
from testkit.images import Blob, Image, Layer

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"


def signature_tag(digest: str) -> str:
    return digest.replace(":", "-") + ".sig"


def make_signature(repository: str, digest: str) -> Image:
    """The cosign signature of `repository@digest` (docker-reference is the repository, as cosign writes it)."""
    payload = json.dumps({"critical": {"identity": {"docker-reference": repository},
                                       "image": {"docker-manifest-digest": digest},
                                       "type": "cosign container image signature"},
                          "optional": None}).encode()
    layer = Blob(payload, SIMPLESIGNING)
    config = Blob(json.dumps({"architecture": "", "created": "0001-01-01T00:00:00Z",
                              "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                              "rootfs": {"type": "layers", "diff_ids": [sha256_digest(payload)]},
                              "config": {}}).encode(), OCI_CONFIG)
    fake_signature = base64.b64encode(hashlib.sha512(payload).digest()).decode()
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config.descriptor(),
                "layers": [layer.descriptor(annotations={SIGNATURE_ANNOTATION: fake_signature})]}
    return Image(Blob(json.dumps(manifest).encode(), OCI_MANIFEST), config, (Layer(layer, sha256_digest(payload)),))


def sign(registry, repository: str, digest: str) -> str:
    """Push the signature of `repository@digest` into `registry`; returns the signature's manifest digest."""
    return registry.push(repository, signature_tag(digest), make_signature(f"{registry.host}/{repository}", digest))
