"""skomirror: mirror OpenShift image sets with bounded concurrent skopeo copies."""

__version__ = "0.1.0"
