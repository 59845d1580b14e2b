"""Per-route request counts of the paper venue: `GET /paper/stats`, for tests and benchmarks.

    {"requests": {"GET /data/trades": 12, "POST /books": 40, ...}}

Counted by an ASGI middleware around the whole app, keyed by method and the
route's path template (`GET /markets/{condition_id}`), so a test can assert
that a runner in steady state makes no request of a kind (e.g. zero
`GET /data/trades` while the user channel is connected). Websocket sessions
are counted too (`WS /ws/user`). A request that matched no route is counted
as `<method> (unmatched)`. `POST /paper/stats/reset` sets every count to zero.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

router = APIRouter()


class RequestCounts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def get(self, key: str) -> int:
        with self._lock:
            return self._counts[key]

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class CountRequests:
    """ASGI middleware: one count per HTTP request or websocket session, by route template."""

    def __init__(self, app: ASGIApp, counts: RequestCounts) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            method = "WS" if scope["type"] == "websocket" else scope.get("method", "?")
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            self.counts.add(f"{method} {route}")


class Stats(BaseModel):
    requests: dict[str, int]


def counts_of(app: Any) -> RequestCounts:
    counts: RequestCounts = app.state.request_counts
    return counts


@router.get("/paper/stats")
def stats(request: Request) -> Stats:
    return Stats(requests=counts_of(request.app).snapshot())


@router.post("/paper/stats/reset")
def reset_stats(request: Request) -> Stats:
    counts_of(request.app).reset()
    return Stats(requests={})


def install_stats(app: Any) -> None:
    """Count every request of `app` (call once, when the app is built)."""
    app.state.request_counts = RequestCounts()
    app.add_middleware(CountRequests, counts=app.state.request_counts)
    app.include_router(router)
