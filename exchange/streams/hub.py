"""The stream thread: one asyncio loop in a background thread running every stream client.

The runner builds the clients (`MarketChannel`, `UserChannel`, `PriceStream`),
starts one `StreamHub` with them and, each tick, reads their snapshots
through their thread-safe methods. `stop()` cancels the streams and joins
the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from exchange.streams.connection import StreamHandler, StreamOptions, run_stream

logger = logging.getLogger(__name__)


class StreamClient(StreamHandler, Protocol):
    options: StreamOptions


class StreamHub:
    def __init__(self, clients: Sequence[StreamClient], name: str = "streams") -> None:
        self.clients = list(clients)
        self._loop = asyncio.new_event_loop()
        self._tasks: list[asyncio.Task[None]] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> StreamHub:
        self._thread.start()
        self._ready.wait(5.0)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._tasks = [
            self._loop.create_task(run_stream(c.options, c), name=c.options.url)
            for c in self.clients
        ]
        self._ready.set()
        with contextlib.suppress(asyncio.CancelledError):
            results = self._loop.run_until_complete(
                asyncio.gather(*self._tasks, return_exceptions=True)
            )
            for client, result in zip(self.clients, results, strict=True):
                if isinstance(result, Exception):
                    logger.error("stream %s failed: %r", client.options.url, result)
        self._loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return

        def cancel() -> None:
            for task in self._tasks:
                task.cancel()

        self._loop.call_soon_threadsafe(cancel)
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("stream thread did not stop within %.1f s", timeout)
