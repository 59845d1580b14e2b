"""Our own orders and trades: the user channel first, /data/trades when it cannot be trusted.

Each tick, before the snapshot, the runner drains the user channel
(`exchange.streams.UserChannel`) and drives the same Lua transitions the
/data/trades poll does, idempotent by fill id (a fill the stream and the poll
both report is applied once):

- a trade MATCHED (MINED, RETRYING) counts at once, its fill marked
  unconfirmed (`trade_status` on the fill record, `nb:{B}:fills:unconfirmed`);
  CONFIRMED clears the mark;
- a trade FAILED is reversed (`reverse_fill.lua`): position, cash, fees,
  realized PnL and the order's filled size as if it never happened; audited
  (`fill_reversed`) and counted;
- a fill of an order Redis does not know adopts that order (`runner.adopt`);
- an order the venue cancels ends in Redis; a placement Redis does not know
  (its create lost with Redis) is adopted.

/data/trades is polled only when the stream cannot stand in for it: no user
channel configured, not connected, (re)connected since the last poll (polls
from the bot's fills cursor until one made `settle_s` after the connection
opened catch up with what happened while it was down; the overlap applies
once), or a trade the venue named in its answer to one of
our placements not reported by the channel within `trade_grace_s` (the
channel lost messages while it looked connected: a missed sequence). While it
stays connected and complete the runner makes no /data/trades request;
reconciliation (`runner.reconcile`) still reads it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from exchange.errors import VenueError
from exchange.types import VenueOrder
from runner import orders
from runner.adopt import Adopter, audit_reversal, restore_fills
from runner.health import halt
from runner.runtime import Runtime
from state_store.errors import OperationalError
from state_store.models import Fill

if TYPE_CHECKING:  # the stream clients import the Polymarket SDK (seconds): live only
    from exchange.streams.user import OrderEvent, UserChannel, UserEvent

log = logging.getLogger(__name__)


def take_fills(rt: Runtime, adopter: Adopter) -> int:
    """This tick's new fills: the user channel's events, then /data/trades if needed."""
    reversed_fills: list[Fill] = []
    applied = 0
    channel = rt.feeds.user if rt.feeds is not None else None
    if channel is not None:
        events = channel.drain()
        applied += apply_events(rt, adopter, events, reversed_fills)
        for event in events:
            rt.user_stream.expected.pop(getattr(event, "trade_id", ""), None)
    if must_poll(rt, channel):
        applied += poll(rt, adopter, reversed_fills)
    for fill in reversed_fills:
        audit_reversal(adopter.repairs, fill)
    rt.counters.fills_applied += applied
    rt.counters.fills_reversed += len(reversed_fills)
    return applied


def must_poll(rt: Runtime, channel: UserChannel | None) -> bool:
    """Poll /data/trades: no stream, a stream down, one (re)connected since the last poll, or
    one that did not report a trade of ours in time."""
    if channel is None or not channel.connected:
        return True
    state = rt.user_stream
    if channel.connects != state.seen_connects:
        state.seen_connects, state.seen_at = channel.connects, time.monotonic()
    if channel.connects != state.caught_up_connects:
        return True
    return missed_trades(rt)


def expect_trades(rt: Runtime, trade_ids: Sequence[str]) -> None:
    """Trades the venue made at our placements: the user channel must report each in time."""
    if rt.feeds is None or rt.feeds.user is None or not trade_ids:
        return
    deadline = time.monotonic() + rt.user_stream.trade_grace_s
    for trade_id in trade_ids:
        rt.user_stream.expected.setdefault(trade_id, deadline)


def missed_trades(rt: Runtime) -> bool:
    state = rt.user_stream
    now = time.monotonic()
    late = [t for t, deadline in state.expected.items() if deadline <= now]
    if late:
        log.warning("user channel did not report %d trades of ours in time (e.g. %s): polling",
                    len(late), late[0])  # fmt: skip
        state.missed += 1
    return bool(late)


def poll(rt: Runtime, adopter: Adopter, reversed_fills: list[Fill]) -> int:
    """The /data/trades poll; an operational error (e.g. refused credentials) halts trading
    and lets the rest of the tick go on."""
    channel = rt.feeds.user if rt.feeds is not None else None
    state = rt.user_stream
    settled = time.monotonic() - state.seen_at >= state.settle_s
    up = channel is not None and channel.connected and channel.connects == state.seen_connects
    connects = state.seen_connects if up and settled else -1
    try:
        applied, rt.fill_cursor = orders.poll_fills(
            rt.store, rt.venue, lambda unmapped: restore_fills(rt.store, unmapped, adopter),
            reversed_fills,
        )  # fmt: skip
    except OperationalError as exc:
        halt(rt, exc)
        return 0
    state.polls += 1
    state.caught_up_connects = connects  # caught up with this connection's start (-1: not yet)
    state.expected.clear()  # the venue recorded them when it answered: polled now
    return applied


def apply_events(
    rt: Runtime, adopter: Adopter, events: Sequence[UserEvent], reversed_fills: list[Fill]
) -> int:
    """Apply drained user-channel events in order; returns how many fills were new."""
    from exchange.streams.user import TradeEvent

    applied = 0
    for event in events:
        if isinstance(event, TradeEvent):
            applied += orders.apply_venue_fills(
                rt.store, event.fills, lambda unmapped: restore_fills(rt.store, unmapped, adopter),
                reversed_fills,
            )  # fmt: skip
            rt.user_stream.trade_events += 1
        else:
            try:
                order_event(rt, adopter, event)
            except VenueError as exc:  # the venue order sync adopts it at its next pass
                log.warning("user channel order %s not handled: %s", event.order_id, exc)
    return applied


def order_event(rt: Runtime, adopter: Adopter, event: OrderEvent) -> None:
    """A cancellation ends the order in Redis; a placement Redis does not know is adopted.
    Fills come with trade events, not order updates."""
    coid = rt.store.coid_for_venue_order(event.order_id)
    if coid is None:
        if event.kind == "PLACEMENT":
            adopter.adopt(venue_order(event))
        return
    if event.kind != "CANCELLATION":
        return
    order = rt.store.order(coid)
    if order is not None and not order.status.terminal:
        rt.store.cancel_order(coid, order.market, "cancelled", "canceled at the venue")


def venue_order(event: OrderEvent) -> VenueOrder:
    return VenueOrder(
        event.order_id, event.token_id, event.market, "SELL" if event.side == "SELL" else "BUY",
        event.price, event.original_size, event.size_matched, "live",
    )  # fmt: skip
