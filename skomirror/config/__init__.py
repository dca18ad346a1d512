"""The ImageSetConfiguration: schema (`model`) and strict loading (`loader`).

`load_config` is looked up on first use: the schema alone (option types, --help) does not import the loader
and its YAML parser."""

from skomirror.config.model import ImageSetConfiguration, Where

__all__ = ["ImageSetConfiguration", "Where", "load_config"]


def __getattr__(name: str):
    if name == "load_config":
        from skomirror.config.loader import load_config
        return load_config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
