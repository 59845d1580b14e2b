"""`GET /api/events`: server-sent events of what changed, polled server-side.

Each connection gets a `Poller` that, every `poll_interval_s`, reads the same
sources as the GET routes (on a worker thread; Redis and the files are
blocking) and emits only what changed since its last poll:

- `hello`    once: bot, poll interval, whether reads need the token
- `status`   GET /api/status, when anything but heartbeat ages changed
- `control`  the desired state, when its version changed
- `reload`   each new manifest entry (Redis: XRANGE after the last stream id
             seen; file plane: entries of status.json not sent yet)
- `timeline` the reload manifest grouped by generation, after new entries
- `state`    GET /api/state, when windows, positions or orders changed
- `orders`   the pending orders, when their set or fill progress changed
- `fills`    `{"new": n, "total": t}` when the fill count grew

On a plane change (Redis lost or back) every snapshot is sent again. A comment
line keeps idle connections open; a stream ends after `stream_max_s` and the
browser's EventSource reconnects (and gets fresh snapshots). `stop_streams(app)`
ends every stream at its next poll, so a server can shut down without waiting
for browsers to leave.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from control.api import answers
from control.api.auth import stream_access
from control.api.config import ApiConfig
from control.api.errors import ApiError
from control.reports import StatusReport
from control.service import ControlService
from state_store.errors import REDIS_UNAVAILABLE
from state_store.manifest import ManifestEntry, after

RETRY_MS = 2000
EVENT_STREAM = {
    "type": "string",
    "description": "text/event-stream: events hello, status (GET /api/status), control "
    "(its `control`), reload (a manifest entry), timeline (GET /api/reloads), state "
    "(GET /api/state), orders (its `pending_orders`), fills ({new, total}); data is JSON",
}

router = APIRouter()


@dataclass(frozen=True)
class Event:
    name: str
    data: Any

    @classmethod
    def of(cls, name: str, data: Any) -> Event:
        """An event whose data is `data` as JSON (a model is dumped as its schema says)."""
        return cls(name, data.model_dump(mode="json") if isinstance(data, BaseModel) else data)

    def encode(self, event_id: int) -> bytes:
        payload = json.dumps(self.data, separators=(",", ":"), default=str)
        return f"id: {event_id}\nevent: {self.name}\ndata: {payload}\n\n".encode()


class Poller:
    """What changed since the previous `poll()` (synchronous: call it on a worker thread)."""

    def __init__(self, service: ControlService) -> None:
        self.service = service
        self.plane = ""
        self._reset()

    def _reset(self) -> None:
        self.status_fp = ""
        self.state_fp = ""
        self.orders_fp = ""
        self.version: int | None = None
        self.fills: int | None = None
        self.cursor: str | None = None  # last reload stream id sent (Redis plane)
        self.seen: set[tuple[Any, ...]] = set()  # reload entries sent (file plane)
        self.timeline_sent = False

    def poll(self) -> list[Event]:
        status = answers.status_report(self.service)
        if status.plane != self.plane:
            self._reset()
            self.plane = status.plane
        events = self._status(status)
        events += self._reloads()
        events += self._state()
        return events

    def _status(self, status: StatusReport) -> list[Event]:
        events = []
        fp = _fingerprint(status, ("server_time", "heartbeat_age_s"))
        if fp != self.status_fp:
            self.status_fp = fp
            events.append(Event.of("status", status))
        if status.control.version != self.version:
            self.version = status.control.version
            events.append(Event.of("control", status.control))
        return events

    def _reloads(self) -> list[Event]:
        if self.plane == "redis":
            new = self._stream_entries()
        else:
            entries, _ = answers.reload_entries(self.service, answers.RELOADS_LIMIT)
            new = [e for e in entries if _entry_key(e) not in self.seen]
            self.seen.update(_entry_key(e) for e in new)
        if self.timeline_sent and not new:
            return []
        events = [Event.of("reload", e) for e in new] if self.timeline_sent else []
        self.timeline_sent = True
        return [*events, Event.of("timeline", answers.reloads_report(self.service))]

    def _stream_entries(self) -> list[ManifestEntry]:
        client = self.service.client()
        if client is None:
            return []
        keys = self.service.keys
        try:
            if self.cursor is None:
                last = cast(Any, client.xrevrange(keys.reloads, count=1))
                self.cursor = last[0][0] if last else "0-0"
                return []
            entries = after(client, keys, self.cursor, 500)
        except REDIS_UNAVAILABLE as exc:
            self.service.redis_problem = str(exc)
            return []
        if entries:
            self.cursor = entries[-1].id
        return entries

    def _state(self) -> list[Event]:
        state = answers.state_report(self.service)
        fp = _fingerprint(state, ("server_time", "time_left_s"))
        if fp == self.state_fp:
            return []
        self.state_fp = fp
        events = [Event.of("state", state)]
        pending = state.pending_orders
        if pending is not None:
            orders = [o.model_dump(mode="json") for o in pending]
            orders_fp = _fingerprint(orders, ())
            if orders_fp != self.orders_fp:
                self.orders_fp = orders_fp
                events.append(Event.of("orders", orders))
        if state.pnl is not None:
            total = state.pnl.fills
            if self.fills is not None and total > self.fills:
                events.append(Event("fills", {"new": total - self.fills, "total": total}))
            self.fills = total
        return events


def _fingerprint(data: Any, volatile: tuple[str, ...]) -> str:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return json.dumps(_strip(data, volatile), sort_keys=True, default=str)


def _strip(data: Any, volatile: tuple[str, ...]) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v, volatile) for k, v in data.items() if k not in volatile}
    if isinstance(data, list):
        return [_strip(v, volatile) for v in data]
    return data


def _entry_key(entry: ManifestEntry) -> tuple[Any, ...]:
    return (entry.ts, entry.replica, entry.kind, entry.generation)


async def event_stream(
    service: ControlService, config: ApiConfig, hello: dict[str, Any], stopping: threading.Event
) -> AsyncIterator[bytes]:
    """Events until the client leaves, `stream_max_s` passes or the server is `stopping`."""
    poller = Poller(service)
    counter = 0
    yield f"retry: {RETRY_MS}\n\n".encode()
    yield Event("hello", hello).encode(counter)
    started = last_sent = time.monotonic()
    while time.monotonic() - started < config.stream_max_s and not stopping.is_set():
        events = await anyio.to_thread.run_sync(poller.poll, abandon_on_cancel=True)
        for event in events:
            counter += 1
            yield event.encode(counter)
            last_sent = time.monotonic()
        if time.monotonic() - last_sent >= config.keepalive_s:
            yield b": keepalive\n\n"
            last_sent = time.monotonic()
        await anyio.sleep(config.poll_interval_s)


def stop_streams(app: Any) -> None:
    """Ask every open event stream to end (call before shutting the server down)."""
    stopping: threading.Event = app.state.stopping
    stopping.set()


class StreamSlots:
    """Counts open streams so a flood of connections cannot multiply the polling."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    async def guarded(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        self.open += 1
        try:
            async for chunk in stream:
                yield chunk
        finally:
            self.open -= 1


@router.get(
    "/api/events",
    tags=["read"],
    summary="Server-sent events: status, control, reloads, state, orders, fills",
    response_class=StreamingResponse,
    dependencies=[Depends(stream_access)],
    responses={200: {"content": {"text/event-stream": {"schema": EVENT_STREAM}}}},
)
async def events(request: Request) -> StreamingResponse:
    config: ApiConfig = request.app.state.api_config
    slots: StreamSlots = request.app.state.stream_slots
    if slots.open >= slots.limit:
        raise ApiError(503, f"{slots.limit} event streams are open already; retry later")
    service: ControlService = request.app.state.service
    hello = {
        "bot": service.settings.bot,
        "poll_interval_s": config.poll_interval_s,
        "private_reads": config.private_reads,
    }
    stopping: threading.Event = request.app.state.stopping
    stream = slots.guarded(event_stream(service, config, hello, stopping))
    headers = {"X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
