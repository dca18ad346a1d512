"""An HTTP-aware fault proxy (asyncio, 127.0.0.1) for a registry: deterministic trouble on a schedule.

Each request is classed (ping, manifest, blob, other) and counted; the schedule
says which numbers of a class get a fault instead of a clean answer:
- status: answer 500/502/503, or 429 with Retry-After, in the registry's error format;
- reset: forward the answer's headers and part of its body, then reset the connection;
- stall: forward the headers and part of the body, then send nothing more.
Every answer closes its connection, so each request is decided on its own.
An outage (`FaultSchedule.outage`) answers every request with one fault until it ends,
whatever its class or number: a registry down for a while, behind a load balancer.
"""

import asyncio
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

from testkit.loopserver import LoopServer, relay

_BLOB = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")
_MANIFEST = re.compile(r"^/v2/.+/manifests/[^/]+$")
_CODES = {500: "UNKNOWN", 502: "UNKNOWN", 503: "UNAVAILABLE", 429: "TOOMANYREQUESTS"}
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 429: "Too Many Requests"}


@dataclass(frozen=True)
class Fault:
    kind: str  # "status", "reset" or "stall"
    status: int = 0
    retry_after: Optional[int] = None
    fraction: float = 0.3  # of the body forwarded before a reset or a stall

    @property
    def name(self) -> str:
        return f"{self.status}" if self.kind == "status" else self.kind


def request_class(method: str, path: str) -> str:
    path = path.split("?", 1)[0]
    if path.rstrip("/") == "/v2":
        return "ping"
    if method == "GET" and _BLOB.match(path):
        return "blob"
    if _MANIFEST.match(path):
        return "manifest"
    return "other"


class FaultSchedule:
    """{request class: {request numbers (1-based): fault}}.

    `injected` counts the faults the client was really served; `skipped` those scheduled for an
    answer without a body to cut (no Content-Length, empty, or a HEAD), which went out clean.
    """

    def __init__(self, rules: Dict[str, Iterable[Tuple[Iterable[int], Fault]]]):
        self.rules = {cls: [(set(numbers), fault) for numbers, fault in entries] for cls, entries in rules.items()}
        self.seen: Counter = Counter()
        self.injected: Counter = Counter()
        self.skipped: Counter = Counter()
        self._lock = threading.Lock()
        self._everything: Optional[Fault] = None

    def outage(self, fault: Optional[Fault]) -> None:
        """From now on every request gets `fault` (None: the schedule applies again)."""
        with self._lock:
            self._everything = fault

    def decide(self, method: str, path: str) -> Optional[Fault]:
        """The fault scheduled for this request, if any; the proxy reports whether it applied it."""
        cls = request_class(method, path)
        with self._lock:
            self.seen[cls] += 1
            number = self.seen[cls]
            if self._everything is not None:
                return self._everything
            return next((fault for numbers, fault in self.rules.get(cls, []) if number in numbers), None)

    def applied(self, fault: Fault) -> None:
        with self._lock:
            self.injected[fault.name] += 1

    def skip(self, fault: Fault) -> None:
        with self._lock:
            self.skipped[fault.name] += 1


class FaultProxy(LoopServer):
    name = "faultproxy"

    def __init__(self, target_port: int, schedule: FaultSchedule):
        super().__init__()
        self.target_port = target_port
        self.schedule = schedule

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve_one(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.readexactly(1)
        if first == b"\x16":  # a TLS handshake: skopeo tries HTTPS first; close so it falls back to HTTP at once
            return
        head = first + await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = [line for line in header_lines if line and not line.lower().startswith("connection:")]
        length = next((int(line.split(":", 1)[1]) for line in headers if line.lower().startswith("content-length:")), 0)
        body = await reader.readexactly(length) if length else b""
        fault = self.schedule.decide(method, path)
        if fault is not None and fault.kind == "status":
            error = json.dumps({"errors": [{"code": _CODES[fault.status], "message": "injected by the fault proxy",
                                            "detail": f"request {method} {path}"}]}).encode()
            extra = f"Retry-After: {fault.retry_after}\r\n" if fault.retry_after is not None else ""
            writer.write(f"HTTP/1.1 {fault.status} {_REASONS[fault.status]}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(error)}\r\nConnection: close\r\n{extra}\r\n".encode() + error)
            await writer.drain()
            self.schedule.applied(fault)
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        try:
            upstream_writer.write(("\r\n".join([request_line] + headers + ["Connection: close", "", ""])).encode(
                "latin-1") + body)
            await upstream_writer.drain()
            response_head = await upstream_reader.readuntil(b"\r\n\r\n")
            size = next((int(line.split(":", 1)[1]) for line in response_head.decode("latin-1").split("\r\n")
                         if line.lower().startswith("content-length:")), None)
            writer.write(response_head)
            if fault is not None and (not size or method == "HEAD"):  # no body to cut: the answer goes out clean
                self.schedule.skip(fault)
                fault = None
            if fault is None:
                await relay(upstream_reader, writer)
                return
            writer.write(await upstream_reader.readexactly(max(1, int(size * fault.fraction))))
            await writer.drain()
            self.schedule.applied(fault)
            if fault.kind == "reset":
                writer.transport.abort()
            else:  # a stall: the connection stays open and silent until the client gives up
                await asyncio.sleep(3600)
        finally:
            upstream_writer.close()
