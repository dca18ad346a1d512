"""Errors that end a run, each carrying the exit code the user sees.

Exit codes follow oc-mirror's bit mask so that scripts written for it keep
working: 1 generic, 2 release, 4 operator, 8 additional images, 16 helm.
"""

EXIT_OK = 0
EXIT_GENERIC = 1
EXIT_RELEASE = 2
EXIT_OPERATOR = 4
EXIT_ADDITIONAL = 8
EXIT_HELM = 16
EXIT_INTERRUPTED = 130


class SkomirrorError(Exception):
    """A problem the user can fix; printed as one line, never as a traceback."""

    exit_code = EXIT_GENERIC

    def __init__(self, message: str, exit_code: int = EXIT_GENERIC):
        super().__init__(message)
        self.exit_code = exit_code


class ConfigError(SkomirrorError):
    """The ImageSetConfiguration is malformed or asks for something unsupported."""


class InvalidReference(ValueError):
    """An image reference that does not parse; the message says why."""


def cut(text: str, limit: int = 60) -> str:
    """`text` cut in the middle past `limit` characters: a megabyte of YAML must not make a megabyte of message."""
    if len(text) <= limit:
        return text
    keep = max(8, (limit - 20) // 2)
    return f"{text[:keep]}…({len(text):,} characters)…{text[-keep:]}"


def shown(value: object, limit: int = 60) -> str:
    """A value quoted for an error line, cut (the location, written before it, never is)."""
    try:
        return cut(repr(value) if isinstance(value, str) else str(value), limit)
    except ValueError:  # an integer past Python's digit limit for str()
        return f"a number of {len(format(value, 'x')) * 1.2:,.0f} or so digits"
