"""Response bodies of the read routes that only the API answers (GET /api/reloads, /api/state).

Status, config and command answers are control.reports models (the CLI prints them too).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from state_store.manifest import ManifestEntry

Plane = Literal["redis", "file"]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReloadStep(_Body):
    kind: str
    tick: int | None
    ts: float


class ReplicaReloads(ReloadStep):
    """A replica's last step with a generation, and every step it took with it."""

    history: list[ReloadStep]


class GenerationRow(_Body):
    """One code generation and what each replica did with it.

    outcome: "rolled_back" if any replica rolled it back, "failed" if it was
    rejected, "ok" once promoted (survived probation), "live" while on
    probation, else the kind.
    """

    generation: str
    first_ts: float
    last_ts: float
    modules: list[str]
    git_sha: str
    git_dirty: bool
    error: str
    replicas: dict[str, ReplicaReloads]
    outcome: str


class ReloadsReport(_Body):
    plane: Plane
    entries: list[ManifestEntry] = Field(description="Manifest entries, oldest first")
    generations: list[GenerationRow] = Field(description="By generation, newest first")
    note: str | None = None


class WindowPosition(_Body):
    up_shares: str
    down_shares: str
    cash: str
    fill_count: int
    settled: bool
    realized_pnl: str


class PendingOrder(_Body):
    client_order_id: str
    market: str
    strategy: str
    outcome: str
    side: str
    price: str
    size: str
    filled: str
    status: str
    replica: str
    created_at: float


class WindowRow(_Body):
    market: str
    asset: str
    interval: str
    status: str
    start_ts: float
    end_ts: float
    time_left_s: float
    start_price: str  # the strike ("" while unknown)
    strike_source: str = ""  # stream | venue
    strike_missing: str = ""  # why no strike could be captured
    winner: str
    position: WindowPosition
    pending_orders: list[PendingOrder]


class Pnl(_Body):
    """Realized PnL of settled markets; net cash of the open ones (negative: money at risk)."""

    realized: str
    open_cash: str
    settled_markets: int
    open_positions: int
    fills: int


class StateReport(_Body):
    """Open and unsettled windows, pending orders and PnL; all null with Redis down."""

    plane: Plane
    server_time: float
    venue_time: float | None = None  # the venue's clock now (window times are on it)
    venue_rate: float | None = None  # venue seconds per wall second (10 in the demo)
    note: str | None = None
    windows: list[WindowRow] | None
    pending_orders: list[PendingOrder] | None
    pnl: Pnl | None
    unconfirmed_fills: int | None = None  # fills of MATCHED trades not CONFIRMED yet


class Health(_Body):
    ok: bool
    bot: str
    redis: bool
    private_reads: bool
