"""The paper venue's websocket streams, in the shapes Polymarket documents.

- `/ws/market`: the CLOB market channel. First message
  `{"assets_ids": [...], "type": "market", "custom_feature_enabled": bool}`;
  later `{"operation": "subscribe"|"unsubscribe", "assets_ids": [...]}`;
  the client's text `PING` is answered `PONG`.
- `/ws/user`: the CLOB user channel. First message
  `{"auth": {"apiKey", "secret", "passphrase"}, "markets": [condition ids], "type": "user"}`
  with credentials the venue issued (any key when it has none).
- `/ws/live-data`: the real-time data socket (RTDS) for crypto prices:
  `{"action": "subscribe", "subscriptions": [{"topic": "crypto_prices_chainlink",
  "type": "*", "filters": "{\\"symbol\\":\\"btc/usd\\"}"}]}` (or topic
  `crypto_prices`, filters `"btcusdt,ethusdt"`). Prices are the venue's
  reference process, one update per venue second.
- `POST /paper/streams/faults`, `GET /paper/streams`: the fault switch.

Starlette does the websocket protocol; each connection runs a reader, a pump
(polling the venue at `StreamSettings.poll_s`, and at each venue second) and
a watchdog that closes it when the fault switch drops connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from fastapi import APIRouter, Request, WebSocket
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from exchange.auth import DEFAULT_OWNER, ApiCredentials
from exchange.paper.engine import PaperEngine
from exchange.paper.gamma import router as gamma_router
from exchange.paper.market_feed import MarketSession
from exchange.paper.stream_faults import StreamFaults
from exchange.paper.user_feed import TradeLifecycle, UserSession

logger = logging.getLogger(__name__)

router = APIRouter()
POLICY_VIOLATION = 1008
SERVICE_RESTART = 1012
FIRST_MESSAGE_TIMEOUT_S = 10.0
CHAINLINK, BINANCE = "crypto_prices_chainlink", "crypto_prices"
MAX_IDS = 500


def faults_of(app: Any) -> StreamFaults:
    return cast(StreamFaults, app.state.stream_faults)


class Connection:
    """One accepted websocket: serialised sends, silence and drop faults, task lifetime."""

    def __init__(self, websocket: WebSocket) -> None:
        self.ws = websocket
        self.engine = cast(PaperEngine, websocket.app.state.engine)
        self.faults = faults_of(websocket.app)
        self.generation = self.faults.generation
        self._lock = asyncio.Lock()

    async def send(self, payload: Any) -> None:
        if self.faults.silent:
            self.faults.note_withheld(payload)
            return
        if self.ws.client_state != WebSocketState.CONNECTED:
            return
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            await self.ws.send_text(text)

    async def first_json(self) -> dict[str, Any] | None:
        try:
            text = await asyncio.wait_for(self.ws.receive_text(), FIRST_MESSAGE_TIMEOUT_S)
            data = json.loads(text)
        except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):
            return None
        return cast(dict[str, Any], data) if isinstance(data, dict) else None

    def delay(self) -> float:
        """Real seconds to the next look: the poll interval, or the next venue second if sooner."""
        now = self.engine.clock.now()
        boundary = (math.floor(now) + 1 - now) / self.engine.clock.anchor.speed
        return max(0.001, min(self.faults.settings.poll_s, boundary + 0.0005))

    async def run(
        self,
        on_text: Callable[[str], Awaitable[None]],
        pump: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        tasks = [
            asyncio.create_task(self._read(on_text)),
            asyncio.create_task(pump()),
            asyncio.create_task(self._watch()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = None if task.cancelled() else task.exception()
                if error is not None and not isinstance(error, WebSocketDisconnect):
                    logger.warning("stream connection failed: %r", error)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            await self.close(1000)

    async def close(self, code: int) -> None:
        if self.ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code)

    async def _read(self, on_text: Callable[[str], Awaitable[None]]) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", errors="replace")
            if text is not None:
                await on_text(text)

    async def _watch(self) -> None:
        while self.faults.generation == self.generation:
            await asyncio.sleep(0.01)
        self.faults.note_dropped()
        await self.close(SERVICE_RESTART)


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v) for v in value[:MAX_IDS] if isinstance(v, str | int) and str(v)]


async def _pong_or(conn: Connection, text: str) -> dict[str, Any] | None:
    """Answer a PING; otherwise the JSON object the text holds (None if it is not one)."""
    if text.strip().upper() == "PING":
        await conn.send("PONG")
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return cast(dict[str, Any], data) if isinstance(data, dict) else None


# -- market channel ----------------------------------------------------------
@router.websocket("/ws/market")
async def market_channel(websocket: WebSocket) -> None:
    await websocket.accept()
    conn = Connection(websocket)
    first = await conn.first_json()
    if first is None or str(first.get("type", "")).lower() != "market":
        await conn.close(POLICY_VIOLATION)
        return
    custom = bool(first.get("custom_feature_enabled"))
    session = MarketSession(conn.engine, conn.faults, _ids(first.get("assets_ids")), custom)

    async def on_text(text: str) -> None:
        data = await _pong_or(conn, text)
        if data is None:
            return
        if "custom_feature_enabled" in data:
            session.custom = bool(data["custom_feature_enabled"])
        operation = str(data.get("operation", "")).lower()
        if operation == "subscribe":
            session.subscribe(_ids(data.get("assets_ids")))
        elif operation == "unsubscribe":
            session.unsubscribe(_ids(data.get("assets_ids")))

    async def pump() -> None:
        while True:
            if session.due(conn.engine.clock.now()):
                messages = await run_in_threadpool(session.collect)
                books = [m for m in messages if m["event_type"] == "book"]
                if len(books) > 1:  # the initial dump comes as one array, as on the CLOB
                    await conn.send(books)
                    messages = [m for m in messages if m["event_type"] != "book"]
                for message in messages:
                    await conn.send(message)
            await asyncio.sleep(conn.delay())

    await conn.run(on_text, pump)


# -- user channel ------------------------------------------------------------
def _owner(websocket: WebSocket, auth: Any) -> str | None:
    """The owner the auth object names, or None when the venue did not issue it."""
    auth = auth if isinstance(auth, dict) else {}
    key = str(auth.get("apiKey") or "")
    issued = cast(dict[str, ApiCredentials], websocket.app.state.credentials)
    if not issued:
        return key or DEFAULT_OWNER
    creds = issued.get(key)
    if creds is None:
        return None
    secret_ok = hmac.compare_digest(str(auth.get("secret") or ""), creds.secret)
    phrase_ok = hmac.compare_digest(str(auth.get("passphrase") or ""), creds.passphrase)
    return creds.api_key if secret_ok and phrase_ok else None


@router.websocket("/ws/user")
async def user_channel(websocket: WebSocket) -> None:
    await websocket.accept()
    conn = Connection(websocket)
    first = await conn.first_json()
    owner = None if first is None else _owner(websocket, first.get("auth"))
    if first is None or owner is None or str(first.get("type", "")).lower() != "user":
        await conn.close(POLICY_VIOLATION)
        return
    lifecycle = cast(TradeLifecycle, websocket.app.state.trade_lifecycle)
    markets = _ids(first.get("markets"))
    session = await run_in_threadpool(UserSession, conn.engine, lifecycle, owner, markets)

    async def on_text(text: str) -> None:
        data = await _pong_or(conn, text)
        if data is None:
            return
        operation = str(data.get("operation", "")).lower()
        ids = {m.lower() for m in _ids(data.get("markets"))}
        if operation == "subscribe":
            session.markets |= ids
        elif operation == "unsubscribe":
            session.markets -= ids

    async def pump() -> None:
        while True:
            for message in await run_in_threadpool(session.collect):
                await conn.send(message)
            await asyncio.sleep(conn.faults.settings.poll_s)

    await conn.run(on_text, pump)


# -- price stream (RTDS) -----------------------------------------------------
def _symbols(topic: str, filters: Any, assets: tuple[str, ...]) -> set[str]:
    """The assets a subscription's filters name (all the venue's when there is no filter)."""
    text = str(filters or "").strip()
    if not text:
        return set(assets)
    if topic == CHAINLINK:
        try:
            data = json.loads(text)
        except ValueError:
            return set()
        symbol = str(data.get("symbol", "")) if isinstance(data, dict) else ""
        return {a for a in assets if symbol.lower() == f"{a}/usd"}
    wanted = {s.strip().lower() for s in text.split(",")}
    return {a for a in assets if f"{a}usdt" in wanted}


def price_update(topic: str, asset: str, value: float, price_ts: int, now: float) -> dict[str, Any]:
    symbol = f"{asset}/usd" if topic == CHAINLINK else f"{asset}usdt"
    return {
        "topic": topic,
        "type": "update",
        "timestamp": int(now * 1000),
        "payload": {"symbol": symbol, "timestamp": price_ts * 1000, "value": value},
    }


@router.websocket("/ws/live-data")
async def price_stream(websocket: WebSocket) -> None:
    await websocket.accept()
    conn = Connection(websocket)
    assets = tuple(conn.engine.config.assets)
    wanted: set[tuple[str, str]] = set()  # (topic, asset)
    last_step: dict[tuple[str, str], int] = {}

    async def on_text(text: str) -> None:
        data = await _pong_or(conn, text)
        if data is None:
            return
        action = str(data.get("action", "")).lower()
        subs = data.get("subscriptions")
        for sub in subs if isinstance(subs, list) else []:
            topic = str(sub.get("topic", "")) if isinstance(sub, dict) else ""
            if topic not in (CHAINLINK, BINANCE):
                continue
            pairs = {(topic, a) for a in _symbols(topic, sub.get("filters"), assets)}
            if action == "subscribe":
                wanted.update(pairs)
            elif action == "unsubscribe":
                wanted.difference_update(pairs)

    async def pump() -> None:
        while True:
            now = conn.engine.clock.now()
            step = math.floor(now)
            for key in sorted(wanted):
                if last_step.get(key) != step:
                    last_step[key] = step
                    value = float(conn.engine.prices.quote(key[1], step))
                    await conn.send(price_update(key[0], key[1], value, step, now))
            await asyncio.sleep(conn.delay())

    await conn.run(on_text, pump)


# -- fault switch ------------------------------------------------------------
class FaultRequest(BaseModel):
    drop: bool = False
    silent: bool | None = None
    skip: int = Field(default=0, ge=0, le=1000)
    fail_trades: int = Field(default=0, ge=0, le=1000)
    unlist: list[str] = Field(default_factory=list, max_length=100)
    reset: bool = False


class StreamStatus(BaseModel):
    silent: bool
    generation: int
    skip_pending: int
    fail_pending: int
    unlisted: list[str]
    dropped: int
    skipped: int


def _status(faults: StreamFaults) -> StreamStatus:
    return StreamStatus(
        silent=faults.silent,
        generation=faults.generation,
        skip_pending=faults.skip_pending,
        fail_pending=faults.fail_pending,
        unlisted=sorted(faults.unlisted),
        dropped=faults.dropped,
        skipped=faults.skipped,
    )


@router.get("/paper/streams")
def stream_status(request: Request) -> StreamStatus:
    return _status(faults_of(request.app))


@router.post("/paper/streams/faults")
def stream_faults(request: Request, body: FaultRequest) -> StreamStatus:
    faults = faults_of(request.app)
    if body.reset:
        faults.reset()
    if body.silent is not None:
        faults.silent = body.silent
    if body.drop:
        faults.drop()
    faults.skip(body.skip)
    faults.fail_trades(body.fail_trades)
    for slug in body.unlist:
        faults.unlist(slug)
    return _status(faults)


def install_streams(app: Any, engine: PaperEngine, faults: StreamFaults | None = None) -> None:
    """Attach the streams, the Gamma routes and the fault switch to a paper venue app."""
    app.state.stream_faults = faults or StreamFaults()
    app.state.trade_lifecycle = TradeLifecycle(engine, app.state.stream_faults)
    app.include_router(router)
    app.include_router(gamma_router)
