"""Writing what runners write (heartbeats, manifest entries, orders), to read it through the API."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import redis

from state_store.keys import Keys
from state_store.manifest import ManifestEntry, publish
from state_store.models import Fill, Intent, Window
from state_store.status import BookSources, RunnerCode, RunnerStatus, TickGapsRecord, heartbeat
from state_store.store import Store

GEN_A, GEN_B = "aaaa1111bbbb2222", "cccc3333dddd4444"


def manifest(
    kind: str, generation: str, replica: str, tick: int | None, **extra: Any
) -> ManifestEntry:
    return ManifestEntry(
        ts=round(time.time(), 3),
        kind=kind,
        ok=kind in ("live", "promoted"),
        error=extra.get("error", ""),
        generation=generation,
        modules=("alpha", "beta"),
        files={"alpha.py": "ab" * 32},
        git_sha=extra.get("git_sha", "0123456789abcdef0123456789abcdef01234567"),
        git_dirty=False,
        replica=replica,
        tick=tick,
    )


def publish_history(client: redis.Redis, bot: str) -> None:
    """GEN_A went live and was promoted on r1 and r2; GEN_B went live, then was rolled back."""
    publish(
        client,
        Keys(bot),
        [
            manifest("live", GEN_A, "r1", None),
            manifest("live", GEN_A, "r2", None),
            manifest("promoted", GEN_A, "r1", 20),
            manifest("promoted", GEN_A, "r2", 21),
            manifest("live", GEN_B, "r1", 40),
            manifest("rolled_back", GEN_B, "r1", 42, error="alpha: raised ValueError"),
        ],
    )


def runner_section(replica: str, tick: int, paused: bool = False) -> RunnerStatus:
    now = time.time()
    return RunnerStatus(
        replica=replica,
        pid=4242,
        tick=tick,
        last_tick_at=now,
        heartbeat=now,
        paused=paused,
        code=RunnerCode(generation=GEN_A, git_sha="0123abc"),
        strategies=["alpha", "beta"],
        markets=["btc-updown-5m-100"],
        orders_created=3,
        tick_gaps=TickGapsRecord(missed=2, most_missed=1, longest_gap_s=0.45, longest_gap_tick=9),
        books=BookSources(market_stream="connected", stream=3, rest=1, stale=0, entries_refused=2),
    )


def beat(client: redis.Redis, bot: str, replica: str, tick: int, paused: bool = False) -> None:
    heartbeat(client, Keys(bot), replica, runner_section(replica, tick, paused), 10_000)


def trade(client: redis.Redis, bot: str, market: str = "btc-updown-5m-100") -> str:
    """An open window with one partly filled live order; returns its client order id."""
    store = Store(client, bot)
    now = time.time()
    window = Window(
        market=market, asset="btc", interval="5m", start_ts=now - 60, end_ts=now + 240,
        condition_id="0xc0", up_token="111", down_token="222", start_price="95000",
    )  # fmt: skip
    store.open_window(window)
    lease = store.claim_lease(market, "r1", 10_000)
    assert lease is not None
    intent = Intent("k1", market, "Up", "BUY", Decimal("0.55"), Decimal("10"))
    coid, _ = store.create_order("alpha", intent, window, lease)
    store.ack_order(coid, market, "live", venue_order_id="v-1")
    fill = Fill("f-1", coid, market, "Up", "BUY", Decimal("0.55"), Decimal("4"), now, "v-1")
    store.apply_fill(fill)
    return coid
