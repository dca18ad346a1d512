"""A WAN emulator: an asyncio TCP proxy with one-way latency and bandwidth caps.

Put in front of a registry on 127.0.0.1 it makes loopback behave like a
long, thin link: each chunk is delayed by the one-way latency (pipelined, so
latency does not cap throughput) and paced by a per-connection and an
aggregate token bucket. It counts the bytes it served, so a benchmark can
compare them with the unique bytes an image set really needs.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Optional

from testkit.loopserver import LoopServer

CHUNK = 256 * 1024  # big enough to keep the proxy's own CPU small next to what it emulates


class Pacer:
    """Paces bytes to `rate` per second; shared by every connection when used as the aggregate cap.

    Only touched from the event loop's thread, so it needs no lock.
    """

    def __init__(self, rate: Optional[float]):
        self.rate = rate
        self._next_free = time.monotonic()

    def reserve(self, count: int) -> float:
        """Book `count` bytes; returns when they are allowed to have left."""
        if not self.rate:
            return 0.0
        self._next_free = max(time.monotonic(), self._next_free) + count / self.rate
        return self._next_free


@dataclass
class Counters:
    connections: int = 0
    bytes_down: int = 0  # served to clients: what a mirror pulls
    bytes_up: int = 0


class WanProxy(LoopServer):
    name = "wanproxy"

    def __init__(self, target_port: int, target_host: str = "127.0.0.1", latency: float = 0.02,
                 connection_rate: Optional[float] = 10e6, total_rate: Optional[float] = 50e6, handshake: bool = False):
        """latency: one-way seconds (RTT/2); rates in bytes per second, None for unlimited. handshake: a new
        connection's bytes wait one round trip more, as TCP's handshake makes them wait on a real link (over
        loopback a client's connect ends at once, so without it a new connection costs nothing)."""
        super().__init__()
        self.handshake = handshake
        self.target = (target_host, target_port)
        self.latency = latency
        self.connection_rate = connection_rate
        self.total_rate = total_rate
        self.counters = Counters()
        self._aggregate_up = Pacer(total_rate)
        self._aggregate_down = Pacer(total_rate)
        self._held = False

    def reset_counters(self) -> None:
        self.counters = Counters()

    def hold(self) -> None:
        """Forward nothing more (connections stay open and silent) until release(): a link that froze."""
        self._held = True

    def release(self) -> None:
        self._held = False

    async def _pump(self, reader, writer, pacer: Pacer, aggregate: Pacer, downstream: bool) -> None:
        queue: asyncio.Queue = asyncio.Queue(maxsize=64)

        async def receive():
            try:
                while True:
                    data = await reader.read(CHUNK)
                    await queue.put((time.monotonic() + self.latency, data))
                    if not data:
                        return
            except (ConnectionError, OSError):
                await queue.put((time.monotonic(), b""))

        receiver = self._spawn(receive())
        try:
            while True:
                due, data = await queue.get()
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not data:
                    break
                while self._held:
                    await asyncio.sleep(0.02)
                # both caps at once: waiting for one and then the other would add their delays
                allowed = max(pacer.reserve(len(data)), aggregate.reserve(len(data)))
                if allowed > time.monotonic():
                    await asyncio.sleep(allowed - time.monotonic())
                writer.write(data)
                await writer.drain()
                if downstream:
                    self.counters.bytes_down += len(data)
                else:
                    self.counters.bytes_up += len(data)
        except (ConnectionError, OSError):
            pass
        finally:
            receiver.cancel()
            try:
                writer.write_eof() if writer.can_write_eof() else None
            except (ConnectionError, OSError, RuntimeError):
                pass

    async def _handle(self, client_reader, client_writer) -> None:
        try:
            await self._relay(client_reader, client_writer)
        except asyncio.CancelledError:  # shutdown: end quietly instead of failing asyncio's done-callback
            client_writer.close()

    async def _relay(self, client_reader, client_writer) -> None:
        self.counters.connections += 1
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        if self.handshake:
            await asyncio.sleep(2 * self.latency)
        up = Pacer(self.connection_rate)
        down = Pacer(self.connection_rate)
        await asyncio.gather(
            self._pump(client_reader, server_writer, up, self._aggregate_up, downstream=False),
            self._pump(server_reader, client_writer, down, self._aggregate_down, downstream=True),
        )
        for writer in (client_writer, server_writer):
            writer.close()
