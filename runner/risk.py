"""Risk limits on every order a strategy asks for (limits and defaults: state_store.risk).

Called from one place, `runner.tick.trade`, between planning and creating orders:

- max shares, max notional, max open orders: checked by create_order.lua against
  what Redis holds, atomically with the create (so replicas trading different
  markets of one bot cannot each pass a bot limit a read outside Lua would allow);
  a refused BUY is never created nor posted.
- max daily loss: the UTC day's PnL (runner.risk_pnl) checked here once per tick;
  while a scope (the bot, or a strategy) is past it, its BUYs are refused, and the
  first breach of the day pauses entries through the desired state, as
  `neverblink ctl pause` would, with an audit entry (`risk_pause`) naming the limit.

Sells are never refused: on Polymarket a sell can only reduce a position (an exit).
Refusals are counted per limit (`<scope>.<limit>`) in the runner's status.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import filelock

from exchange.types import Book
from runner import risk_pnl
from runner.orders import OrderStats, Planned
from runner.runtime import Runtime
from state_store import risk
from state_store.desired import DesiredState
from state_store.desired_pause import pause_entries
from state_store.models import Window
from state_store.transitions import EntryLimits

log = logging.getLogger(__name__)

LOSS = "max_daily_loss"


@dataclass(frozen=True)
class TickLimits:
    """The limits of one tick (from the desired state it read) and the scopes past their loss."""

    overrides: Mapping[str, Mapping[str, bool | int | float | str]]
    breached: frozenset[str] = frozenset()

    def entry_limits(self, strategy: str) -> EntryLimits:
        return EntryLimits(
            risk.limits_of(self.overrides, risk.BOT), risk.limits_of(self.overrides, strategy)
        )

    def screen(self, planned: Sequence[Planned], stats: OrderStats) -> list[Planned]:
        """The planned orders minus the BUYs of scopes past their loss limit (counted)."""
        kept = []
        for p in planned:
            scope = next((s for s in (risk.BOT, p.strategy) if s in self.breached), None)
            if scope is None or p.intent.side == "SELL":
                kept.append(p)
                continue
            name = f"{scope}.{LOSS}"
            stats.refused[name] = stats.refused.get(name, 0) + 1
        return kept


def check(
    rt: Runtime, desired: DesiredState, windows: Mapping[str, Window], books: Mapping[str, Book],
    now: float,
) -> TickLimits:  # fmt: skip
    """This tick's limits; the day's PnL against the loss limits (a first breach pauses)."""
    keys = rt.store.keys
    risk_pnl.track(rt.client, keys, windows.values(), now)
    pnl = risk_pnl.day_pnl(rt.client, keys, books, now, rt.risk.cache)
    rt.risk.day_pnl = {scope: f"{value:.6f}" for scope, value in sorted(pnl.items())}
    breached = {
        scope: (-value, limit)
        for scope, value in pnl.items()
        if -value > (limit := risk.limits_of(desired.risk, scope).max_daily_loss)
    }
    rt.risk.breached = sorted(breached, key=lambda s: (s != risk.BOT, s))
    pause_once(rt, {s: breached[s] for s in rt.risk.breached}, now)
    return TickLimits(desired.risk, frozenset(breached))


def pause_once(rt: Runtime, breached: Mapping[str, tuple[Decimal, Decimal]], now: float) -> None:
    """Pause entries when a scope passes its loss limit, once per scope and UTC day (an
    operator's resume then holds: the scope's BUYs stay refused while it is past its
    limit, other strategies may trade). One audit entry names the limit (the bot's
    first) and every scope it covers."""
    day = risk_pnl.day_name(now)
    marker = rt.store.keys.risk_paused(day)
    seen = set(cast(list[str], rt.client.hkeys(marker))) if breached else set()
    new = [scope for scope in breached if scope not in seen]
    if not new:
        return
    loss, limit = breached[new[0]]
    args: dict[str, Any] = {
        "limit": f"{new[0]}.{LOSS}", "loss": f"{loss:.6f}", LOSS: str(limit), "day": day,
        "limits": [f"{scope}.{LOSS}" for scope in new],
    }  # fmt: skip
    log.warning("risk limit %s: loss %.2f past %s, pausing entries", args["limit"], loss, limit)
    try:
        pause_entries(rt.client, rt.settings, "risk_pause", args, f"runner:{rt.config.replica}")
    except (filelock.Timeout, OSError) as exc:  # the lock busy, control.json not writable
        log.warning("the loss pause failed, tried again next tick: %s", exc)
        return
    rt.client.hset(marker, mapping={scope: f"{now:.3f}" for scope in new})
    rt.client.expire(marker, 3 * risk_pnl.DAY_S)


def count(rt: Runtime, stats: OrderStats) -> None:
    """Add this tick's refusals to status; log a limit's first, 10th, 100th, ... refusal
    (a strategy asks again every tick: a line each time would drown the log)."""
    for name, n in stats.refused.items():
        before = rt.risk.refused.get(name, 0)
        rt.risk.refused[name] = before + n
        if len(str(before + n)) > len(str(before)) or before == 0:
            log.warning("risk limit %s refused %d orders so far", name, before + n)
