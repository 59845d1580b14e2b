"""The long-lived handles a runner ticks with: connections, the reloader, caches of Redis.

Nothing here is state that Redis does not also hold: `leases` is a cache of
the lease keys (each tick renews them there), counters are for status only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import redis

from exchange.venue import Venue
from runner.strategy_call import StrategyCaller
from runner.tick_timing import TickDurations
from state_store.desired import DesiredState
from state_store.settings import Settings
from state_store.store import Lease, Store


@dataclass(frozen=True)
class RunnerConfig:
    replica: str
    tick_s: float = 1.0
    strategies: tuple[str, ...] = ()  # empty: every strategy in the folder
    lease_ttl_ms: int = 5_000
    decide_budget_s: float = 0.25
    probation_ticks: int = 20
    validate_timeout_s: float = 5.0


@dataclass
class Counters:
    """What status shows; lost on restart without harm."""

    strategy_errors: dict[str, int] = field(default_factory=dict)
    overruns: dict[str, int] = field(default_factory=dict)
    last_errors: dict[str, str] = field(default_factory=dict)
    orders_created: int = 0
    fills_applied: int = 0
    venue_errors: int = 0
    last_venue_error: str = ""
    tick_durations: TickDurations = field(default_factory=TickDurations)
    loop_errors: int = 0
    last_loop_error: str = ""


@dataclass
class Runtime:
    settings: Settings
    config: RunnerConfig
    client: redis.Redis
    store: Store
    venue: Venue
    reloader: Any  # runner.reload.Reloader
    caller: StrategyCaller
    publisher: Any = None  # runner.publish.Publisher: in-process, a standby while a watch runs
    leases: dict[str, Lease] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)
    tick: int = 0
    last_tick_at: float = 0.0
    paused: bool = False
    degraded: bool = False
    control_error: str = ""
    pid: int = field(default_factory=os.getpid)
    seen_reload_seq: int = -1
    last_desired: DesiredState | None = None
    fill_cursor: str | None = None  # cache of nb:{B}:cursor:fills, for degraded mode
    unpublished: list[dict[str, Any]] = field(default_factory=list)  # manifest, Redis down
