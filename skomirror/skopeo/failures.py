"""The one table that decides whether a skopeo failure is worth retrying.

skopeo's own `--retry-times` misses 5xx answers and distribution's blob
races (see the reference notes, skopeo 1.9.3), so skomirror reads the error
text itself. The patterns are heuristics over unstable text: the raw message
is always kept next to the label.
"""

import re
from dataclasses import dataclass
from typing import Optional

from skomirror.records import NOT_FOUND, Failure, FailureKind

RATE_LIMITED, OVERLOADED = "rate limited (429)", "registry overloaded (503)"  # these slow a registry down
STALLED = "stalled"
AUTH_FAILED, DENIED = "authentication failed", "access denied"
NOT_ANSWERING, ANSWERING_ERRORS = "not answering", "answering errors"  # how a registry that is down is said


@dataclass(frozen=True)
class Rule:
    pattern: str
    kind: FailureKind
    label: str
    down: str = ""  # the failure says the registry itself is down (skomirror.skopeo.outages), and how


# First match wins; more specific patterns come first.
RULES = (
    Rule(r"failed to read from destination repository", FailureKind.RACE, "registry blob race (500 on blob check)"),
    Rule(r"manifest blob unknown|blob unknown to registry", FailureKind.RACE, "manifest blob unknown"),
    Rule(r"digest invalid", FailureKind.RACE, "digest invalid"),
    # c/image hides a failed OCI index upload behind this when it may not convert (seen in same-repository races)
    Rule(r"must be converted to type .*Instructed to preserve digests", FailureKind.RACE, "manifest list upload failed"),
    Rule(r"blob upload unknown|blob upload invalid", FailureKind.TRANSIENT, "blob upload lost"),
    Rule(r"toomanyrequests|too many requests|\b429\b", FailureKind.TRANSIENT, RATE_LIMITED),
    Rule(r"\b503\b|Service Unavailable", FailureKind.TRANSIENT, OVERLOADED, ANSWERING_ERRORS),
    Rule(r"unexpected HTTP status: 5\d\d|status code from registry 5\d\d|\b5\d\d \((Internal Server Error|Bad "
         r"Gateway|Service Unavailable|Gateway Timeout)\)", FailureKind.TRANSIENT, "registry server error (5xx)",
         ANSWERING_ERRORS),
    Rule(r"connection refused", FailureKind.TRANSIENT, "connection refused", NOT_ANSWERING),
    Rule(r"connection reset", FailureKind.TRANSIENT, "connection reset", NOT_ANSWERING),
    Rule(r"broken pipe", FailureKind.TRANSIENT, "broken pipe", NOT_ANSWERING),
    # the registry went away under a request in flight (Go's net and net/http wording)
    Rule(r"use of closed network connection|server closed idle connection", FailureKind.TRANSIENT,
         "connection closed", NOT_ANSWERING),
    Rule(r"network is unreachable|no route to host|host is down", FailureKind.TRANSIENT, "network unreachable",
         NOT_ANSWERING),
    Rule(r"i/o timeout|TLS handshake timeout|context deadline exceeded|Client\.Timeout|timeout awaiting",
         FailureKind.TRANSIENT, "timeout", NOT_ANSWERING),
    Rule(r"unexpected EOF|: EOF\b|\bEOF$", FailureKind.TRANSIENT, "connection closed early (EOF)", NOT_ANSWERING),
    Rule(r"http2: |GOAWAY|stream error", FailureKind.TRANSIENT, "HTTP/2 stream error", NOT_ANSWERING),
    Rule(r"manifest unknown|no descriptor found|name unknown|repository name not known|not found|"
         r"Image may not exist",
         FailureKind.PERMANENT, NOT_FOUND),
    Rule(r"unauthorized|authentication required|invalid username/password|unable to retrieve auth token",
         FailureKind.PERMANENT, AUTH_FAILED),
    Rule(r"\bdenied\b", FailureKind.PERMANENT, DENIED),
    Rule(r"server gave HTTP response to HTTPS client", FailureKind.PERMANENT,
         "registry speaks plain HTTP (use --src-tls-verify=false or --dest-tls-verify=false)"),
    Rule(r"x509:|certificate", FailureKind.PERMANENT, "TLS certificate not trusted (see --src-cert-dir/--dest-cert-dir)"),
    Rule(r"no such host", FailureKind.PERMANENT, "unknown registry host"),
    Rule(r"invalid reference format", FailureKind.PERMANENT, "invalid image reference"),
    Rule(r"is blocked in", FailureKind.PERMANENT, "registry blocked by registries.conf"),
    Rule(r"signatures .*not supported|Can not copy signatures", FailureKind.PERMANENT,
         "destination cannot store signatures"),
    Rule(r"no space left on device", FailureKind.PERMANENT, "no space left on device"),
    Rule(r"\bUNSUPPORTED\b|operation is unsupported|405 Method Not Allowed", FailureKind.PERMANENT,
         "registry does not allow deletes"),
)
_DOWN = {rule.label: rule.down for rule in RULES if rule.down}
_DOWN[STALLED] = NOT_ANSWERING  # every byte stopped: the watchdog's word, not skopeo's
_COMPILED = tuple((re.compile(rule.pattern, re.IGNORECASE), rule) for rule in RULES)
_UNKNOWN = Rule("", FailureKind.PERMANENT, "skopeo failed")
_LOGFMT_FATAL = re.compile(r'level=(?:fatal|error) msg="((?:[^"\\]|\\.)*)"')
# `skopeo inspect` wraps every error in this misleading prefix, even network ones.
_INSPECT_PREFIX = re.compile(r'^Error parsing image name "[^"]*": ')
_MIRRORS_FAILED = re.compile(r"\(Mirrors also failed: \[.*\]\): ", re.DOTALL)


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(value: str) -> str:
    """Undo logrus' Go-style quoting of a logfmt value."""
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match[1], match[0]), value)


def error_message(stderr: str) -> str:
    """The error skopeo reported: the last logfmt `msg` of a fatal line, unescaped, on one line."""
    found = _LOGFMT_FATAL.findall(stderr)
    if found:
        text = _unquote(found[-1])
    else:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        text = lines[-1] if lines else ""
        text = re.sub(r"^FATA\[\d+\]\s*", "", text)
    text = _INSPECT_PREFIX.sub("", text)
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def classify(stderr: str, returncode: Optional[int] = 1, interrupted: bool = False) -> Failure:
    message = error_message(stderr)
    if interrupted:
        return Failure.interrupted(message)
    if returncode is not None and returncode < 0 and not message:
        return Failure(FailureKind.TRANSIENT, f"skopeo killed by signal {-returncode}", "")
    primary = _MIRRORS_FAILED.sub("", message)  # the primary location's error decides
    for regex, rule in _COMPILED:
        if regex.search(primary):
            return Failure(rule.kind, rule.label, message)
    return Failure(_UNKNOWN.kind, _UNKNOWN.label, message)


def down_as(failure: Failure) -> str:
    """How the registry is down when this failure says it is ("not answering", "answering errors"), else ""."""
    return _DOWN.get(failure.label, "") if failure.kind is FailureKind.TRANSIENT else ""
