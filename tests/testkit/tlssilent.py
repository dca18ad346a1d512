"""A plain-HTTP registry behind a port that takes a TLS hello and never answers it.

Some registries (and middleboxes in front of them) accept the connection and
swallow a ClientHello in silence: a client that tries HTTPS first waits for its
timeout. Plain HTTP is relayed to the registry untouched. `hellos` counts the
TLS attempts, so a test can tell how often a client paid the wait.
"""

import asyncio

from testkit.loopserver import LoopServer, relay

_TLS_HANDSHAKE_RECORD = 0x16


class TlsSilentProxy(LoopServer):
    name = "tls-silent-proxy"

    def __init__(self, target_port: int):
        super().__init__()
        self.target_port = target_port
        self.hellos = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await reader.read(1)
            if not first:
                return
            if first[0] == _TLS_HANDSHAKE_RECORD:
                self.hellos += 1
                while await reader.read(65536):  # hold the connection, say nothing, until the client gives up
                    pass
                return
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            upstream_writer.write(first)
            await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
            upstream_writer.close()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await relay(reader, writer)
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError, RuntimeError):
            pass
