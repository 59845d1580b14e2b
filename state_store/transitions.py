"""Builders for Lua transition calls: pure functions from records to (script, keys, args).

A `Call` can run alone (`Store.run`) or with others in one pipelined round
trip (`Store.execute`): every script is atomic on its own and safe to repeat.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from state_store.codec import plain, to_micro, window_fields, window_terms
from state_store.keys import Keys
from state_store.models import Fill, Intent, Window
from state_store.risk import Limits


@dataclass(frozen=True)
class Call:
    script: str
    keys: tuple[str, ...]
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Lease:
    market: str
    replica: str
    token: int


MICRO_UNIT = Decimal("0.000001")
FAILED_TRADE = "FAILED"  # a venue trade that will not settle: its fill is reversed

_WINDOW_ARGS = (
    "market", "asset", "interval", "start_ts", "end_ts",
    "condition_id", "up_token", "down_token", "start_price",
)  # fmt: skip


def now_text() -> str:
    return f"{time.time():.3f}"


def open_window(k: Keys, window: Window, rolls_from: str | None = None) -> Call:
    previous = k.window(rolls_from) if rolls_from else k.window(window.market)
    fields = window_fields(window)
    terms = [x for pair in window_terms(window).items() for x in pair]
    args = (*(fields[f] for f in _WINDOW_ARGS), now_text(), *terms)
    keys = (k.window(window.market), k.markets, previous, k.unsettled, k.open_markets)
    return Call("open_window", keys, args)


PRICE_STREAM_MAXLEN = 3_600  # reference prices kept per asset (about an hour at one a second)


def append_prices(
    k: Keys, asset: str, points: Sequence[tuple[float, str]], maxlen: int = PRICE_STREAM_MAXLEN
) -> Call:
    """Append (timestamp s, price) points, oldest first; one already there is skipped."""
    args: list[Any] = [maxlen]
    for ts, price in points:
        args += [round(ts * 1000), price]
    return Call("append_prices", (k.prices(asset),), tuple(args))


def record_strike(k: Keys, market: str, price: str, price_ts: float, source: str) -> Call:
    """A window's strike, once (the first writer wins)."""
    return Call("record_strike", (k.window(market),), (price, f"{price_ts:.3f}", source,
                now_text(), ""))  # fmt: skip


def strike_missing(k: Keys, market: str, reason: str) -> Call:
    """Say why a window's strike could not be captured (never replaces a strike)."""
    return Call("record_strike", (k.window(market),), ("", "", "", now_text(), reason))


def close_window(k: Keys, market: str) -> Call:
    keys = (k.window(market), k.unsettled, k.open_markets)
    return Call("close_window", keys, (now_text(), market))


def settle_window(k: Keys, market: str, winner: str, end_price: str = "") -> Call:
    if winner not in ("Up", "Down"):
        raise ValueError(f"winner must be Up or Down, not {winner!r}")
    keys = (k.window(market), k.position(market), k.unsettled, k.open_markets)
    return Call("settle_window", keys, (market, winner, end_price, now_text()))


@dataclass(frozen=True)
class EntryLimits:
    """The limits create_order.lua checks a BUY against: the bot's, then the strategy's."""

    bot: Limits
    strategy: Limits

    def args(self, k: Keys) -> tuple[Any, ...]:
        out: list[Any] = [k.order_prefix]
        for limits in (self.bot, self.strategy):
            out += [
                to_micro(limits.max_shares), to_micro(limits.max_notional),
                limits.max_open_orders,
            ]  # fmt: skip
        return tuple(out)


def create_order(
    k: Keys,
    coid: str,
    strategy: str,
    intent: Intent,
    window: Window,
    lease: Lease,
    venue_order_id: str = "",
    limits: EntryLimits | None = None,
) -> Call:
    """Create an order; with `limits`, a BUY that would break one is refused instead."""
    to_micro(intent.price), to_micro(intent.size)  # refuse sub-micro amounts before Lua
    m = intent.market
    keys: tuple[str, ...] = (
        k.order(coid), k.pending, k.pending_market(m), k.market_orders(m),
        k.lease(m), k.window(m), k.venue_orders,
    )  # fmt: skip
    args = (
        coid, m, strategy, intent.key, intent.outcome, window.token_for(intent.outcome),
        intent.side, plain(intent.price), plain(intent.size), intent.order_type,
        venue_order_id, lease.replica, lease.token, now_text(),
    )  # fmt: skip
    if limits is not None:
        keys += (k.position(m), k.strategy_positions(m))
        args += limits.args(k)
    return Call("create_order", keys, args)


@dataclass(frozen=True)
class Adoption:
    """A venue order Redis did not know, with what the venue says about it."""

    coid: str
    market: str
    outcome: str
    token_id: str
    side: str
    price: Decimal
    size: Decimal
    venue_order_id: str
    status: str  # live | cancelled (a matched order becomes filled by its fills)
    order_type: str = "GTC"


def adopt_order(k: Keys, a: Adoption) -> Call:
    """Record a venue order whose create Redis lost; a known order id changes nothing."""
    m = a.market
    keys = (k.order(a.coid), k.pending, k.pending_market(m), k.market_orders(m), k.venue_orders)
    args = (
        a.coid, m, "(adopted)", f"adopted:{a.venue_order_id[:18]}", a.outcome, a.token_id,
        a.side, plain(a.price), plain(a.size), a.order_type, a.venue_order_id, a.status,
        now_text(),
    )  # fmt: skip
    return Call("adopt_order", keys, args)


def ack_order(
    k: Keys,
    coid: str,
    market: str,
    status: str,
    venue_order_id: str = "",
    error: str = "",
    lease: Lease | None = None,
) -> Call:
    """Move an order forward; with `lease`, only while that lease is still current."""
    keys: tuple[str, ...] = (k.order(coid), k.pending, k.pending_market(market), k.venue_orders)
    args: tuple[Any, ...] = (coid, status, venue_order_id, error, now_text())
    if lease is not None:
        keys += (k.lease(market),)
        args += (f"{lease.replica}|{lease.token}",)
    return Call("ack_order", keys, args)


def cancel_order(k: Keys, coid: str, market: str, reason: str, error: str = "") -> Call:
    if reason not in ("cancelled", "expired"):
        raise ValueError(f"reason must be cancelled or expired, not {reason!r}")
    keys = (k.order(coid), k.pending, k.pending_market(market))
    return Call("cancel_order", keys, (coid, reason, error, now_text()))


def _fill_keys(k: Keys, fill: Fill) -> tuple[str, ...]:
    m = fill.market
    return (
        k.fill(fill.fill_id), k.order(fill.client_order_id), k.position(m),
        k.pending, k.pending_market(m), k.window(m), k.unconfirmed_fills,
        k.strategy_positions(m),
    )  # fmt: skip


def _fill_args(fill: Fill) -> tuple[Any, ...]:
    return (
        fill.fill_id, fill.client_order_id, fill.market, fill.outcome, fill.side,
        plain(fill.price), to_micro(fill.size), to_micro(notional(fill)), f"{fill.ts:.3f}",
        fill.venue_order_id, to_micro(fill.fee),
    )  # fmt: skip


def apply_fill(k: Keys, fill: Fill) -> Call:
    """Apply a fill (idempotent by fill id); a known one may move its trade status forward."""
    if fill.trade_status == FAILED_TRADE:
        raise ValueError(f"fill {fill.fill_id}: a FAILED trade is reversed, not applied")
    return Call("apply_fill", _fill_keys(k, fill), (*_fill_args(fill), fill.trade_status))


def reverse_fill(k: Keys, fill: Fill) -> Call:
    """Undo the fill of a FAILED venue trade (idempotent); a fill never applied is recorded
    as failed so it is never applied later."""
    return Call("reverse_fill", _fill_keys(k, fill), (*_fill_args(fill), now_text()))


def record_fill(k: Keys, fill: Fill) -> Call:
    """The transition a venue fill calls for: reversed when its trade FAILED, else applied."""
    return reverse_fill(k, fill) if fill.trade_status == FAILED_TRADE else apply_fill(k, fill)


def notional(fill: Fill) -> Decimal:
    """Cash of a fill in whole micro-units (a maker fill's price x size can carry more
    decimals than USDC has; the venue settles in 1e-6 USDC, half-up)."""
    return (fill.price * fill.size).quantize(MICRO_UNIT, rounding=ROUND_HALF_UP)


LEASE_LOG_MAXLEN = 10_000  # approximate cap of the lease grant log


def claim_lease(k: Keys, market: str, replica: str, ttl_ms: int) -> Call:
    """Claim or renew; a fresh grant gets a new fencing token and a lease-log entry."""
    keys = (k.lease(market), k.fence, k.lease_log)
    return Call("claim_lease", keys, (replica, ttl_ms, market, LEASE_LOG_MAXLEN))


def renew_lease(k: Keys, lease: Lease, ttl_ms: int) -> Call:
    return Call("renew_lease", (k.lease(lease.market),), (lease.replica, lease.token, ttl_ms))


def release_lease(k: Keys, lease: Lease) -> Call:
    return Call("release_lease", (k.lease(lease.market),), (lease.replica, lease.token))
