"""The reports the read routes (and the event stream) answer, built from ControlService reads.

Every report names its `plane`: "redis", or "file" with a `note` when Redis is
unreachable and the answer comes from status.json / control.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import redis

from control.api.responses import (
    GenerationRow,
    PendingOrder,
    Plane,
    Pnl,
    ReloadsReport,
    ReloadStep,
    ReplicaReloads,
    StateReport,
    WindowPosition,
    WindowRow,
)
from control.reports import StatusReport
from control.service import ControlService
from state_store.codec import plain
from state_store.errors import REDIS_UNAVAILABLE
from state_store.files import read_json
from state_store.manifest import ManifestEntry, recent
from state_store.models import MarketSnapshot, Order, Position
from state_store.status import read_status_file
from state_store.store import Store

RELOADS_LIMIT = 50
OUTCOME_BY_KIND = {"rolled_back": "rolled_back", "rejected": "failed", "promoted": "ok"}


def file_note(service: ControlService, what: str) -> str:
    problem = service.redis_problem or "Redis is unreachable"
    return f"{problem}: {what} from the files of {service.settings.home}"


def status_report(service: ControlService) -> StatusReport:
    status = service.status()
    note = None
    if status.plane == "file":
        note = file_note(
            service, "runners and reloads from status.json, control from control.json; "
            "positions and orders unknown"
        )  # fmt: skip
    return status.model_copy(update={"server_time": round(time.time(), 3), "note": note})


# -- reloads ---------------------------------------------------------------------


def reload_entries(service: ControlService, limit: int) -> tuple[list[ManifestEntry], Plane]:
    """The newest `limit` manifest entries (oldest first) and the plane they came from."""
    client = service.client()
    if client is not None:
        try:
            return recent(client, service.keys, limit), "redis"
        except REDIS_UNAVAILABLE as exc:
            service.redis_problem = str(exc)
    return read_status_file(service.settings.status_file).reloads[-limit:], "file"


def reloads_report(service: ControlService, limit: int = RELOADS_LIMIT) -> ReloadsReport:
    entries, plane = reload_entries(service, limit)
    note = (
        file_note(service, "the recent reload manifest of status.json") if plane == "file" else None
    )
    return ReloadsReport(
        plane=plane, entries=entries, generations=group_reloads(entries), note=note
    )


@dataclass
class _Generation:
    """A generation's row while the entries are folded in."""

    first: ManifestEntry
    order: int = 0
    last_ts: float = 0.0
    error: str = ""
    git_sha: str = ""
    git_dirty: bool = False
    kinds: set[str] = field(default_factory=set)
    replicas: dict[str, list[ReloadStep]] = field(default_factory=dict)

    def row(self) -> GenerationRow:
        return GenerationRow(
            generation=self.first.generation,
            first_ts=self.first.ts,
            last_ts=self.last_ts,
            modules=list(self.first.modules),
            git_sha=self.git_sha,
            git_dirty=self.git_dirty,
            error=self.error,
            replicas={
                r: ReplicaReloads(**steps[-1].model_dump(), history=steps)
                for r, steps in self.replicas.items()
            },
            outcome=_outcome(self.kinds),
        )


def group_reloads(entries: Iterable[ManifestEntry]) -> list[GenerationRow]:
    """One row per code generation (entries oldest first; rows newest first), with what
    each replica did with it.

    `replicas[r]` is the replica's last entry (kind, tick, ts) plus its `history`
    (e.g. live at tick 44, promoted at tick 63).
    """
    rows: dict[str, _Generation] = {}
    for index, entry in enumerate(entries):
        row = rows.setdefault(entry.generation, _Generation(entry, git_sha=entry.git_sha,
                                                            git_dirty=entry.git_dirty))  # fmt: skip
        row.order = index
        row.last_ts = max(row.last_ts, entry.ts)
        row.kinds.add(entry.kind)
        step = ReloadStep(kind=entry.kind, tick=entry.tick, ts=entry.ts)
        row.replicas.setdefault(entry.replica or "?", []).append(step)
        if entry.error:
            row.error = entry.error
        if entry.git_sha:
            row.git_sha, row.git_dirty = entry.git_sha, entry.git_dirty
    return [r.row() for r in sorted(rows.values(), key=lambda r: r.order, reverse=True)]


def _outcome(kinds: set[str]) -> str:
    for kind, outcome in OUTCOME_BY_KIND.items():
        if kind in kinds:
            return outcome
    return "live" if "live" in kinds else (sorted(kinds)[0] if kinds else "unknown")


# -- trading state -----------------------------------------------------------------


def state_report(service: ControlService) -> StateReport:
    """Open and unsettled windows with their position, pending orders and time left; PnL.

    Time left is on the venue's clock (`venue_time`, `venue_rate`: as the freshest
    runner read it, carried forward to now); the wall clock until a runner has read it.
    """
    now = time.time()
    client = service.client()
    if client is not None:
        try:
            clock = venue_clock(_clock_readings(service, client), now)
            return _redis_state(client, service, round(now, 3), clock)
        except REDIS_UNAVAILABLE as exc:
            service.redis_problem = str(exc)
    clock = venue_clock(_clock_readings(service, None), now)
    return StateReport(
        plane="file",
        server_time=round(now, 3),
        venue_time=clock["time"] if clock else None,
        venue_rate=clock["rate"] if clock else None,
        note=file_note(service, "positions and orders live only in Redis: unknown; "
                       "nothing was read"),
        windows=None,
        pending_orders=None,
        pnl=None,
    )  # fmt: skip


def _redis_state(
    client: redis.Redis, service: ControlService, server_time: float,
    clock: dict[str, float] | None,
) -> StateReport:  # fmt: skip
    store = Store(client, service.settings.bot)
    live = sorted(set(store.open_markets()) | set(store.unsettled_markets()))
    snaps = store.snapshot(live)
    now = clock["time"] if clock else time.time()  # window times are the venue's
    windows = [_window_row(s, now) for s in snaps.values() if s.window is not None]
    windows.sort(key=lambda w: (w.end_ts, w.market))
    return StateReport(
        plane="redis",
        server_time=server_time,
        venue_time=clock["time"] if clock else None,
        venue_rate=clock["rate"] if clock else None,
        windows=windows,
        pending_orders=[order_row(o) for o in store.pending_orders()],
        pnl=pnl(store.positions()),
        unconfirmed_fills=int(client.scard(store.keys.unconfirmed_fills)),
    )


def venue_clock(readings: list[dict[str, Any]], now: float) -> dict[str, float] | None:
    """The venue's time at wall time `now` from the freshest runner reading; None without one."""
    if not readings:
        return None
    best = max(readings, key=lambda r: float(r["wall_time"]))
    rate = float(best.get("rate") or 1.0)
    venue_now = float(best["venue_time"]) + (now - float(best["wall_time"])) * rate
    return {"time": round(venue_now, 3), "rate": rate}


def _clock_readings(service: ControlService, client: redis.Redis | None) -> list[dict[str, Any]]:
    """Each runner's last reading of the venue clock (runner hashes, else status.json)."""
    raw: list[Any] = []
    if client is not None:
        keys = service.keys
        replicas = sorted(cast(set[str], client.smembers(keys.runners)))
        pipe = client.pipeline(transaction=False)
        for replica in replicas:
            pipe.hget(keys.runner(replica), "venue_clock")
        raw = [_json_or_none(v) for v in pipe.execute()]
    else:
        status = read_json(service.settings.status_file)
        runners = status.get("runners") if isinstance(status, dict) else None
        if isinstance(runners, dict):
            raw = [s.get("venue_clock") for s in runners.values() if isinstance(s, dict)]
    fields = ("venue_time", "wall_time")
    return [
        r for r in raw
        if isinstance(r, dict) and all(isinstance(r.get(f), int | float) for f in fields)
    ]  # fmt: skip


def _json_or_none(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _window_row(snap: MarketSnapshot, now: float) -> WindowRow:
    window = snap.window
    assert window is not None
    return WindowRow(
        market=window.market,
        asset=window.asset,
        interval=window.interval,
        status=str(window.status),
        start_ts=window.start_ts,
        end_ts=window.end_ts,
        time_left_s=round(max(window.end_ts - now, 0.0), 1),
        start_price=window.start_price,
        strike_source=window.strike_source,
        strike_missing=window.strike_missing,
        winner=window.winner,
        position=position_row(snap.position),
        pending_orders=[order_row(o) for o in snap.open_orders],
    )


def position_row(position: Position) -> WindowPosition:
    return WindowPosition(
        up_shares=plain(position.up_shares),
        down_shares=plain(position.down_shares),
        cash=plain(position.cash),
        fill_count=position.fill_count,
        settled=position.settled,
        realized_pnl=plain(position.realized_pnl),
    )


def order_row(order: Order) -> PendingOrder:
    return PendingOrder(
        client_order_id=order.client_order_id,
        market=order.market,
        strategy=order.strategy,
        outcome=order.outcome,
        side=order.side,
        price=plain(order.price),
        size=plain(order.size),
        filled=plain(order.filled),
        status=str(order.status),
        replica=order.replica,
        created_at=order.created_at,
    )


def pnl(positions: Iterable[Position]) -> Pnl:
    """Realized PnL of settled markets; net cash of the open ones (negative: money at risk)."""
    realized, open_cash, fills, settled, open_count = Decimal(0), Decimal(0), 0, 0, 0
    for p in positions:
        fills += p.fill_count
        if p.settled:
            realized += p.realized_pnl
            settled += 1
        elif p.fill_count:
            open_cash += p.cash
            open_count += 1
    return Pnl(
        realized=plain(realized),
        open_cash=plain(open_cash),
        settled_markets=settled,
        open_positions=open_count,
        fills=fills,
    )
