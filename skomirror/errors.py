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
