"""Market windows and leases: which markets exist, which this replica trades.

Windows come from the venue and are recorded in Redis (idempotent). A replica
trades a market only while it holds the market's lease; every order it
creates carries the lease's fencing token, which the create script checks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from exchange.errors import VenueError
from exchange.types import MarketWindow
from exchange.venue import Venue
from state_store import transitions as t
from state_store.models import Window
from state_store.store import Lease, Store

log = logging.getLogger(__name__)


def to_window(mw: MarketWindow) -> Window:
    return Window(
        market=mw.slug, asset=mw.asset, interval=mw.interval, start_ts=float(mw.start_ts),
        end_ts=float(mw.end_ts), condition_id=mw.condition_id, up_token=mw.up_token,
        down_token=mw.down_token, start_price=mw.start_price or "",
    )  # fmt: skip


def live_windows(windows: Iterable[MarketWindow], now: float) -> list[Window]:
    return [to_window(w) for w in windows if not w.closed and w.start_ts <= now < w.end_ts]


def record_windows(store: Store, windows: Sequence[Window]) -> None:
    """Open every live window in Redis (one round trip; existing ones are left as they are)."""
    store.execute([t.open_window(store.keys, w) for w in windows])


def live_replicas(store: Store, replica: str) -> int:
    """Replicas whose heartbeat key has not expired (this one included)."""
    members = [str(m) for m in store.client.smembers(store.keys.runners)]
    pipe = store.client.pipeline(transaction=False)
    for member in members:
        pipe.exists(store.keys.runner(member))
    alive = {m for m, e in zip(members, pipe.execute(), strict=True) if e}
    return len(alive | {replica})


def release_all(store: Store, leases: Mapping[str, Lease]) -> None:
    store.execute([t.release_lease(store.keys, lease) for lease in leases.values()])


def reference_prices(venue: Venue, assets: Iterable[str]) -> dict[str, Decimal]:
    """Current reference price per asset, where the venue offers one (the paper venue does)."""
    getter = getattr(venue, "reference_price", None)
    if getter is None:
        return {}
    out: dict[str, Decimal] = {}
    for asset in sorted(set(assets)):
        try:
            quote = getter(asset)
            out[asset] = Decimal(str(getattr(quote, "price", quote)))
        except (VenueError, ValueError, ArithmeticError) as exc:
            log.debug("no reference price for %s: %s", asset, exc)
    return out
