"""Talking to registries over HTTP without skopeo: manifests, and which blobs a destination holds."""
