"""Venue restrictions as an operator expects them: stop placing, wait, try again, show why.

A refused order that says "not now" (the venue placed nothing) sets the runner's
`Restriction`; while it holds, no new order and no re-post goes out, so a
restriction costs one refused request per back-off, never a storm:

- 425 engine restarting: no orders; try again after `RESTART_WAIT_S`, then
  post-only orders only for `POST_ONLY_AFTER_RESTART_S` (the strategies' orders
  are never post-only: none go out until it passed).
- 503 post-only: post-only orders only, for `POST_ONLY_WAIT_S`.
- 503 cancel-only / disabled: no orders (cancels go on) for `CANCEL_ONLY_WAIT_S`.
- not enough balance / allowance: no orders for `BALANCE_WAIT_S` (the venue's
  balance cache lags fills).

Auth and restricted-account refusals are `OperationalError`s: `runner.health.halt`.
An order refused by a restriction stays `submitted` under its deterministic id; the
repair step posts it again (once: the id is looked up first) when the restriction is over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from exchange.errors import InsufficientBalance, TradingRestricted, VenueError

log = logging.getLogger(__name__)

RESTART_WAIT_S = 30.0  # the weekly restart lasts ~90 s: one probe every 30 s
POST_ONLY_AFTER_RESTART_S = 120.0  # the venue's post-only period after a restart (~2 min)
POST_ONLY_WAIT_S = 30.0
CANCEL_ONLY_WAIT_S = 60.0
BALANCE_WAIT_S = 60.0
INSUFFICIENT_BALANCE = "insufficient_balance"
REASON_CHARS = 300  # as runner.runtime.ERROR_CHARS (status keeps this much)


@dataclass
class Restriction:
    """The venue restriction in force ("" none); `until`: no new orders before (wall time)."""

    kind: str = ""
    reason: str = ""
    since: float | None = None
    until: float = 0.0
    post_only_until: float = 0.0  # after it: any order; before: post-only orders only

    def accepting(self, now: float) -> bool:
        """May any order be posted now (post-only ones at least)?"""
        return now >= self.until

    def any_order(self, now: float) -> bool:
        return self.accepting(now) and now >= self.post_only_until

    def current(self, now: float) -> str:
        """The restriction shown in status ("" once it passed)."""
        if not self.accepting(now):
            return self.kind
        return "post_only" if now < self.post_only_until else ""


def restriction_of(exc: VenueError) -> str:
    """The restriction `exc` reports, or "" when it is not one."""
    if isinstance(exc, TradingRestricted):
        return exc.restriction
    if isinstance(exc, InsufficientBalance):
        return INSUFFICIENT_BALANCE
    return ""


def restricted(r: Restriction, exc: VenueError, now: float) -> bool:
    """Record the restriction `exc` reports; False when `exc` is not one."""
    kind = restriction_of(exc)
    if not kind:
        return False
    if r.since is None or not r.current(now):
        r.since = now
        log.warning("venue restriction %s: no new orders for now (%s)", kind, exc)
    r.kind, r.reason = kind, str(exc)[:REASON_CHARS]
    if kind == "restarting":
        r.until = now + RESTART_WAIT_S
        r.post_only_until = r.until + POST_ONLY_AFTER_RESTART_S
    elif kind == "post_only":
        r.until = now
        r.post_only_until = now + POST_ONLY_WAIT_S
    elif kind == INSUFFICIENT_BALANCE:
        r.until = now + BALANCE_WAIT_S
    else:  # cancel_only, disabled, restricted
        r.until = now + CANCEL_ONLY_WAIT_S
    return True


def may_place(r: Restriction, now: float) -> bool:
    """May the runner post orders now (the strategies' orders are never post-only)?
    A restriction that has passed is forgotten here (status shows none)."""
    if r.kind and not r.current(now):
        log.warning("venue restriction %s over: orders resume", r.kind)
        r.kind, r.reason, r.since = "", "", None
    return r.any_order(now)
