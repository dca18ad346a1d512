"""The ImageSetConfiguration: schema (`model`) and strict loading (`loader`)."""

from skomirror.config.loader import load_config
from skomirror.config.model import ImageSetConfiguration, Where

__all__ = ["ImageSetConfiguration", "Where", "load_config"]
