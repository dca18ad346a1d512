"""An asyncio server on 127.0.0.1 running in a thread of its own, for the test proxies."""

import asyncio
import threading
from typing import Optional, Set


async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Everything `reader` sends, to `writer`, until it ends."""
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return
        writer.write(chunk)
        await writer.drain()


class LoopServer:
    """Subclasses implement `_handle(reader, writer)`; start() returns once `port` is bound."""

    name = "loop-server"

    def __init__(self):
        self.port = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._task: Optional[asyncio.Task] = None
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._tasks: Set[asyncio.Task] = set()

    def _spawn(self, coroutine) -> asyncio.Task:
        """A task the server holds until it ends. The loop keeps only weak references to tasks: a pending task
        reached only through its connection's own objects, a cycle, can be destroyed by the cyclic collector."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def running_tasks(self) -> int:
        """How many handlers and relays are still running: read from another thread, a snapshot."""
        return len(self._tasks)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Each connection's handler as a task the server holds, not only that connection's own objects."""
        self._spawn(self._handle(reader, writer))

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await server.serve_forever()

    def start(self):
        def main():
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._task = loop.create_task(self._serve())
            try:
                loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                pass
            finally:  # cancel what is left, quietly, before the loop goes
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=main, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{self.name} did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._task:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread:
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
