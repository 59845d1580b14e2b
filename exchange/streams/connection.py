"""One reconnecting websocket stream: `websockets` for the protocol, tenacity for backoff.

`run_stream(options, handler)` connects, lets the handler send its
subscription, feeds it every JSON message, and sends the application-level
`PING` the venue expects. It reconnects, with exponential backoff and jitter,
when the connection fails, closes, or stays silent (no message, not even
`PONG`) for `silence_timeout_s`. A session that lived `healthy_after_s`
resets the backoff. It runs until cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

logger = logging.getLogger(__name__)
#: The `websockets` library logs every frame at DEBUG, the user channel's credentials
#: included: its logger stays at INFO whatever the application's level.
wire_logger = logging.getLogger("exchange.streams.wire")
wire_logger.setLevel(logging.INFO)

Send = Callable[[str], Awaitable[None]]


class StreamDown(Exception):
    """The connection could not open, ended, or went silent."""


@dataclass(frozen=True)
class StreamOptions:
    url: str
    ping_interval_s: float = 10.0  # the CLOB channels want "PING" about every 10 s, RTDS 5 s
    silence_timeout_s: float = 30.0  # no message at all for this long: reconnect
    open_timeout_s: float = 10.0
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 10.0
    healthy_after_s: float = 5.0  # a session that lived this long resets the backoff


class StreamHandler(Protocol):
    async def on_open(self, send: Send) -> None: ...
    async def on_message(self, data: Any) -> None: ...
    def on_close(self) -> None: ...


async def run_stream(options: StreamOptions, handler: StreamHandler) -> None:
    """Keep the stream connected until cancelled."""
    while True:
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(
                multiplier=options.backoff_initial_s,
                jitter=options.backoff_initial_s,
                max=options.backoff_max_s,
            ),
            retry=retry_if_exception_type(StreamDown),
            before_sleep=lambda state: logger.info(
                "stream %s down (%s); reconnecting, attempt %d",
                options.url,
                state.outcome.exception() if state.outcome else None,
                state.attempt_number,
            ),
        )
        async for attempt in retrying:
            with attempt:
                await _session(options, handler)


async def _session(options: StreamOptions, handler: StreamHandler) -> None:
    """One connection. Returns after a healthy session, raises StreamDown after a short one."""
    opened = time.monotonic()
    try:
        async with connect(
            options.url, open_timeout=options.open_timeout_s, logger=wire_logger
        ) as ws:

            async def send(text: str) -> None:
                await ws.send(text)

            await handler.on_open(send)
            pinger = asyncio.create_task(_ping(send, options.ping_interval_s))
            try:
                await _read(ws, handler, options.silence_timeout_s)
            finally:
                pinger.cancel()
                with contextlib.suppress(BaseException):
                    await pinger
    except (OSError, TimeoutError, WebSocketException, StreamDown) as exc:
        if time.monotonic() - opened < options.healthy_after_s:
            raise StreamDown(f"{type(exc).__name__}: {exc}") from exc
        logger.info("stream %s ended after a healthy session: %r", options.url, exc)
    finally:
        handler.on_close()


async def _read(ws: Any, handler: StreamHandler, silence_timeout_s: float) -> None:
    async for raw in _messages(ws, silence_timeout_s):
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if text.strip().upper() in ("PONG", "PING"):
            continue
        try:
            data = json.loads(text)
        except ValueError:
            continue
        await handler.on_message(data)


async def _messages(ws: Any, silence_timeout_s: float) -> Any:
    while True:
        try:
            yield await asyncio.wait_for(ws.recv(), silence_timeout_s)
        except TimeoutError:
            raise StreamDown(f"silent for {silence_timeout_s} s") from None


async def _ping(send: Send, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        with contextlib.suppress(WebSocketException):
            await send("PING")
