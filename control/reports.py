"""What `ctl status`, `ctl config get` and the read routes answer: typed reports.

The records inside them (runner sections, manifest and audit entries, the
desired state) are state_store's models; these reports add where each came
from and what an operator needs next to them (heartbeat age, sync, notes).
"""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from state_store.audit import AuditEntry
from state_store.codec import plain
from state_store.desired import ConfigValue, DesiredState
from state_store.manifest import ManifestEntry
from state_store.models import Order, Position
from state_store.status import BookSources, DataGuardStatus, RunnerStatus, TickSeconds

Plane = Literal["redis", "file"]


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)


class ControlBlock(DesiredState):
    """The desired state in force, and where its Redis and control.json copies stand."""

    model_config = ConfigDict(extra="ignore")  # entries_allowed is computed, not read

    redis_version: int | None = None
    file_version: int | None = None
    file_error: str = ""
    in_sync: bool | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def entries_allowed(self) -> bool:
        return not (self.paused or self.killed)

    @classmethod
    def of(cls, state: DesiredState, **sides: Any) -> ControlBlock:
        return cls.model_validate({**state.model_dump(), **sides})


class RunnerRow(Report):
    """One replica: from its live hash (Redis) or its status.json section."""

    replica: str
    alive: bool
    pid: int | None = None
    tick: int | None = None
    heartbeat_age_s: float | None = None
    paused: bool | None = None
    degraded: bool | None = None
    control_error: str = ""
    operational_error: str = ""
    operational_error_since: float | None = None
    venue_unresponsive_since: float | None = None
    venue_error: str = ""
    venue_restriction: str = ""
    venue_restriction_reason: str = ""
    venue_restriction_since: float | None = None
    generation: str = ""
    git_sha: str = ""
    git_dirty: bool = False
    on_probation: bool = False
    markets: list[str] = Field(default_factory=list)
    orders_created: int | None = None
    ticks_missed: int | None = None  # tick periods with no tick start (runner.tick_timing)
    user_stream: str = ""  # connected | catching up | down | "" (no user channel: polls)
    trade_polls: int | None = None  # /data/trades polls since the runner started
    fills_reversed: int | None = None  # fills of FAILED venue trades undone
    books: BookSources = Field(default_factory=BookSources)  # stream / rest / stale, last tick
    tick_seconds: TickSeconds = Field(default_factory=TickSeconds)
    data_guard: DataGuardStatus = Field(default_factory=DataGuardStatus)
    risk_refused: dict[str, int] = Field(default_factory=dict)  # "<scope>.<limit>" -> orders
    risk_day_pnl: dict[str, str] = Field(default_factory=dict)  # scope -> the UTC day's PnL
    risk_breached: list[str] = Field(default_factory=list)  # scopes past their daily loss
    window_source: str = ""  # gamma | listing
    unlisted_windows: dict[str, str] = Field(default_factory=dict)  # due, not on Gamma: why

    @classmethod
    def of(
        cls,
        replica: str,
        section: RunnerStatus | None,
        now: float | None = None,
        alive: bool = True,
    ) -> RunnerRow:
        """`section` None: nothing known of the replica but its name."""
        if section is None:
            return cls(replica=replica, alive=False)
        code = section.code
        return cls(
            replica=replica,
            alive=alive and not section.stopped,
            pid=section.pid,
            tick=section.tick,
            heartbeat_age_s=section.heartbeat_age(time.time() if now is None else now),
            paused=section.paused,
            degraded=section.degraded,
            control_error=section.control_error,
            operational_error=section.operational_error,
            operational_error_since=section.operational_error_since,
            venue_unresponsive_since=section.venue_unresponsive_since,
            venue_error=section.venue_error,
            venue_restriction=section.venue_restriction,
            venue_restriction_reason=section.venue_restriction_reason,
            venue_restriction_since=section.venue_restriction_since,
            generation=code.generation,
            git_sha=code.git_sha,
            git_dirty=code.git_dirty,
            on_probation=code.on_probation,
            markets=section.markets,
            orders_created=section.orders_created,
            ticks_missed=section.tick_gaps.missed,
            user_stream=section.user_stream,
            trade_polls=section.trade_polls,
            fills_reversed=section.fills_reversed,
            books=section.books,
            tick_seconds=section.tick_seconds,
            data_guard=section.data_guard,
            risk_refused=section.risk_refused,
            risk_day_pnl=section.risk_day_pnl,
            risk_breached=section.risk_breached,
            window_source=section.window_source,
            unlisted_windows=section.unlisted_windows,
        )


class PositionRow(Report):
    """A position with its amounts as plain decimal strings."""

    market: str
    up_shares: str
    down_shares: str
    cash: str
    buy_notional: str
    sell_notional: str
    fill_count: int
    settled: bool
    payout: str
    realized_pnl: str

    @classmethod
    def of(cls, position: Position) -> PositionRow:
        return cls.model_validate(_plain_fields(position))


class OrderRow(Report):
    """An order with its amounts as plain decimal strings."""

    client_order_id: str
    market: str
    strategy: str
    intent_key: str
    outcome: str
    token_id: str
    side: str
    price: str
    size: str
    order_type: str
    status: str
    filled: str
    venue_order_id: str
    error: str
    replica: str
    fence: int
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, order: Order) -> OrderRow:
        return cls.model_validate({**_plain_fields(order), "status": str(order.status)})


def _plain_fields(record: Any) -> dict[str, Any]:
    return {
        k: plain(v) if isinstance(v, Decimal) else v for k, v in dataclasses.asdict(record).items()
    }


class StatusReport(Report):
    """`ctl status --json` and GET /api/status. With Redis down (plane "file"):
    runners and reloads from status.json, audit from audit.jsonl, positions and
    orders unknown (null), never guessed."""

    bot: str
    plane: Plane
    redis_problem: str = ""
    control: ControlBlock
    runners: list[RunnerRow]
    positions: list[PositionRow] | None
    pending_orders: list[OrderRow] | None
    reloads: list[ManifestEntry]
    audit: list[AuditEntry]
    notes: list[str]
    server_time: float | None = None
    note: str | None = Field(default=None, description="Where a file-plane answer came from")


class StrategyParams(Report):
    defaults: dict[str, ConfigValue]
    overrides: dict[str, ConfigValue]
    effective: dict[str, ConfigValue]
    unknown_overrides: list[str]


class ConfigReport(Report):
    """`ctl config get --json` and GET /api/config: PARAMS per strategy."""

    version: int
    plane: Plane
    strategies: dict[str, StrategyParams]
    orphan_overrides: list[str]
    problems: list[str]
    note: str | None = None


class RiskReport(Report):
    """`ctl risk get --json` and GET /api/risk: the limits in force, per scope."""

    version: int
    plane: Plane
    defaults: dict[str, ConfigValue]  # of every scope (a strategy's default to the bot's)
    overrides: dict[str, dict[str, ConfigValue]]  # scope -> limit -> value, as set
    limits: dict[str, dict[str, ConfigValue]]  # scope -> limit -> value in force
    descriptions: dict[str, str]  # limit -> what it bounds
    refused: dict[str, int]  # "<scope>.<limit>" -> orders refused, summed over live runners
    day_pnl: dict[str, str]  # scope -> the UTC day's PnL, as the freshest runner computed it
    breached: list[str]  # scopes past their daily loss limit (any runner)
    problems: list[str]
    note: str | None = None


class CommandReport(Report):
    """The answer to a command: the new desired state and where it was written."""

    command: str
    state: DesiredState
    old_version: int
    version: int
    plane: Plane
    message: str
    warnings: list[str]
    note: str | None = None
