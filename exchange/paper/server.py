"""Serving the paper venue with uvicorn: in the foreground (CLI) or on a background thread."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8790
#: uvicorn's websocket protocol on the `websockets` sans-I/O core (its legacy one is deprecated).
WS_PROTOCOL = "websockets-sansio"


def serve(app: FastAPI, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM)."""
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, ws=WS_PROTOCOL)


class BackgroundServer:
    """uvicorn on a daemon thread; `start()` returns once the socket accepts connections.

    `port=0` takes a free port; `url` names the bound one after `start()`.
    """

    def __init__(self, app: FastAPI, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, ws=WS_PROTOCOL
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self.server.run, name="paper-venue", daemon=True)

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"paper venue did not start on {self.url}")
            time.sleep(0.01)
        sockets = [s for server in self.server.servers for s in server.sockets]
        if sockets:
            host, port = sockets[0].getsockname()[:2]
            self.url = f"http://{host}:{port}"
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
