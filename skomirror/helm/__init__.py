"""Helm charts: Helm's own engine renders them, skomirror reads the images out and mirrors charts as OCI artifacts.

`engine` chooses the engine (the helm CLI, or helm-python-sdk), `charts`
fetches and packs chart archives, `images` and `jsonpath` find the images in
what the engine rendered. Nothing here imitates Go templates.
"""
