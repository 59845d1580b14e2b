"""Running the app with uvicorn: event streams end when the server is asked to stop."""

from __future__ import annotations

from types import FrameType

import uvicorn
from fastapi import FastAPI

from control.api.sse import stop_streams

GRACEFUL_SHUTDOWN_S = 3  # a request still running after this is cancelled


class StreamEndingServer(uvicorn.Server):
    """uvicorn that ends open event streams on SIGINT/SIGTERM instead of waiting for them."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        stop_streams(self.config.app)
        super().handle_exit(sig, frame)


def serve(app: FastAPI, host: str, port: int, access_log: bool = True) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    StreamEndingServer(config).run()
