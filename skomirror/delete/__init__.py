"""`skomirror delete`: oc-mirror v2's two steps, so that nothing is deleted by surprise.

`generate` resolves a DeleteImageSetConfiguration with the same collectors and
names as a mirror and writes the manifests it would delete, with their digests,
to review (`listing`); `removal` deletes exactly those, by digest, keeping any
that the workspace's last mirror still needs.
"""
