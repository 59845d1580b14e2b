"""The long-lived handles a runner ticks with: connections, the reloader, caches of Redis.

Nothing here is state that Redis does not also hold: `leases` is a cache of
the lease keys (each tick renews them there), counters are for status only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis

from exchange.errors import VenueError, VenueUnavailable
from exchange.factory import VenueSpec
from exchange.types import Book
from exchange.venue import Venue
from runner.host.caller import HostCaller
from runner.risk_pnl import PnlCache
from runner.tick_timing import TickDurations, TickGaps
from runner.venue_clock import VenueClock
from runner.venue_faults import Restriction
from state_store.desired import DesiredState
from state_store.manifest import ManifestEntry
from state_store.settings import Settings
from state_store.store import Lease, Store

if TYPE_CHECKING:  # the stream clients import the Polymarket SDK (seconds): live only
    from exchange.streams.feeds import LiveFeeds
    from runner.discovery import WindowFinder

ERROR_CHARS = 300  # how much of an error message status keeps


@dataclass(frozen=True)
class RunnerConfig:
    replica: str
    tick_s: float = 1.0
    strategies: tuple[str, ...] = ()  # empty: every strategy in the folder
    lease_ttl_ms: int = 5_000
    decide_budget_s: float = 0.25
    probation_ticks: int = 20
    validate_timeout_s: float = 5.0
    venue_deadline_s: float = 1.0  # one venue call, retries included (see venue_deadline)
    venue_heartbeat: str = "off"  # off | failover | owner (runner.venue_heartbeat)
    #: WAIT for this many Redis replicas after creating orders, before posting (0: no WAIT;
    #: -1: every connected replica, runner.orders.ALL_CONNECTED)
    wait_replicas: int = 0
    wait_timeout_ms: int = 250


@dataclass
class Counters:
    """What status shows; lost on restart without harm."""

    strategy_errors: dict[str, int] = field(default_factory=dict)
    overruns: dict[str, int] = field(default_factory=dict)
    last_errors: dict[str, str] = field(default_factory=dict)
    orders_created: int = 0
    fills_applied: int = 0
    fills_reversed: int = 0  # fills of FAILED venue trades undone by this runner
    venue_errors: int = 0
    last_venue_error: str = ""
    tick_durations: TickDurations = field(default_factory=TickDurations)
    tick_gaps: TickGaps = field(default_factory=TickGaps)
    loop_errors: int = 0
    last_loop_error: str = ""


@dataclass
class UserStreamState:
    """How this runner learns its fills: user channel, /data/trades polls (runner.user_stream)."""

    caught_up_connects: int = -1  # the channel's `connects` /data/trades caught up with
    seen_connects: int = -1  # the channel's `connects` when this runner last looked
    seen_at: float = 0.0  # monotonic time it first saw that connection
    #: a catch-up poll counts only this long after the connection opened: events of the
    #: moment between its opening and the venue taking the subscription are in the poll
    settle_s: float = 1.0
    polls: int = 0  # /data/trades polls by this runner
    trade_events: int = 0  # trade events applied from the user channel
    #: trades our placements made (the venue's answer named them) that the channel has not
    #: reported yet -> monotonic deadline; one past its deadline makes the runner poll
    expected: dict[str, float] = field(default_factory=dict)
    trade_grace_s: float = 5.0  # how long the channel may take to report such a trade
    missed: int = 0  # polls because the channel did not report a trade in time


@dataclass
class BookFeedState:
    """Where this runner's books come from (runner.books): the market channel, REST /books."""

    tokens: frozenset[str] = frozenset()  # the tokens the market channel was last given
    #: this tick's source of each token's book: "stream", "rest" or "stale" (a stream book)
    sources: dict[str, str] = field(default_factory=dict)
    books: dict[str, Book] = field(default_factory=dict)  # this tick's books, by token
    rest_polls: int = 0  # ticks that fetched books with POST /books (some or all tokens)
    entries_refused: int = 0  # buy intents refused because their market's book was stale


@dataclass
class ReferenceState:
    """Caches of the reference-price work (runner.strikes); Redis holds the facts."""

    appended: dict[str, float] = field(default_factory=dict)  # asset -> last ts put in Redis
    strikes_done: set[str] = field(default_factory=set)  # markets whose strike is settled


@dataclass
class VenueHealth:
    """Is the venue answering? `unresponsive_since` is wall time of the first unanswered tick."""

    unresponsive_since: float | None = None
    error: str = ""  # the current venue error; "" once a tick got all its answers

    def failed(self, exc: VenueError, now: float) -> None:
        self.error = str(exc)[:ERROR_CHARS]
        if isinstance(exc, VenueUnavailable) and self.unresponsive_since is None:
            self.unresponsive_since = now

    def answered(self) -> bool:
        """The venue answered a whole tick; True when that ends an unresponsive spell."""
        was = self.unresponsive_since is not None
        self.unresponsive_since = None
        self.error = ""
        return was


@dataclass
class Halt:
    """An operational error in force: no new orders until the operator acts."""

    reason: str
    kind: str  # the exception's class name, e.g. "AuthError"
    since: float
    desired_version: int  # the control version in force when it began
    audited: bool = False


@dataclass
class GuardState:
    """What this runner remembers of the bot's Redis (runner.guard) and its venue sync."""

    epoch: str = ""  # the epoch of nb:{B}:epoch last seen
    seq: int = -1  # this replica's sequence after its last tick (-1: nothing remembered yet)
    holding: str = ""  # why this tick places no new orders ("" while trading)
    went_back: str = ""  # Redis went back during the last tick (seen by its bump)
    repairs: int = 0  # rebuilds from the venue by this process
    last_repair: dict[str, Any] = field(default_factory=dict)
    venue_synced_at: float = 0.0  # monotonic time of the last venue order sync
    orders_ended: int = 0  # orders ended at the venue that this runner ended in Redis
    orders_adopted: int = 0  # venue orders Redis did not know, adopted by this runner


@dataclass
class RiskState:
    """What this runner shows of the risk limits (runner.risk); Redis holds the facts."""

    refused: dict[str, int] = field(default_factory=dict)  # "<scope>.<limit>" -> orders
    day_pnl: dict[str, str] = field(default_factory=dict)  # scope -> PnL of the UTC day
    breached: list[str] = field(default_factory=list)  # scopes past their loss limit now
    cache: PnlCache = field(default_factory=PnlCache)


@dataclass
class Runtime:
    settings: Settings
    config: RunnerConfig
    client: redis.Redis
    store: Store
    venue: Venue
    reloader: Any  # runner.reload.Reloader
    caller: HostCaller  # the tick's seam to the strategy host
    publisher: Any = None  # runner.publish.Publisher: in-process, a standby while a watch runs
    feeds: LiveFeeds | None = None  # the venue's streams (books, our orders, prices), if configured
    closers: list[Callable[[], object]] = field(default_factory=list)  # build_runtime's handles
    leases: dict[str, Lease] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)
    guard: GuardState = field(default_factory=GuardState)
    tick: int = 0
    last_tick_at: float = 0.0
    paused: bool = False
    degraded: bool = False
    control_error: str = ""
    pid: int = field(default_factory=os.getpid)
    seen_reload_seq: int = -1
    last_desired: DesiredState | None = None
    fill_cursor: str | None = None  # cache of nb:{B}:cursor:fills, for degraded mode
    unpublished: list[ManifestEntry] = field(default_factory=list)  # manifest, Redis down
    venue_health: VenueHealth = field(default_factory=VenueHealth)
    user_stream: UserStreamState = field(default_factory=UserStreamState)
    books: BookFeedState = field(default_factory=BookFeedState)
    reference: ReferenceState = field(default_factory=ReferenceState)
    halt: Halt | None = None  # an operational error in force: no new orders
    restriction: Restriction = field(default_factory=Restriction)  # 425/503/balance: wait
    heartbeat_lease: Lease | None = None  # held: this replica sends the venue heartbeat
    venue_clock: VenueClock = field(default_factory=VenueClock)  # last reading, for status
    venue_spec: VenueSpec | None = None  # how a job opens this venue; None: jobs cannot
    risk: RiskState = field(default_factory=RiskState)  # risk limits: refusals, day PnL
    discovery: WindowFinder | None = None  # windows from Gamma by slug; None: venue listing


MIN_VENUE_DEADLINE_S = 0.5  # below this a healthy but busy venue would look dead


def venue_deadline(tick_s: float) -> float:
    """The deadline of one venue call: most of the tick, never less than a round trip needs."""
    return max(MIN_VENUE_DEADLINE_S, tick_s * 0.8)
