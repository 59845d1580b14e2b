"""What the loop does with an error, by kind: a venue that stopped answering, an operational halt.

- `TemporaryError` from the venue: counted; when the venue did not answer
  (`VenueUnavailable`) the runner marks it unresponsive since the first failure,
  with the current error, and keeps ticking; the first tick whose venue calls
  all answer clears it. No orders go out meanwhile: a tick that cannot reach
  the venue ends at its first failed call (each call has a deadline inside the
  tick budget, see `exchange.http`).
- `OperationalError` (bad credentials, a restricted account, an unknown market
  series): the runner stops placing orders and keeps ticking (leases, status,
  fills, housekeeping); the reason is logged once, shown in status (and from
  there by `ctl status` and the dashboard) and appended once to the audit
  stream. It holds until the operator changes the desired state (`ctl resume`,
  or any command: a newer control version) or restarts the runner; if the cause
  is still there, the next failing call halts again, with a new entry.
"""

from __future__ import annotations

import logging
import time

from exchange.errors import VenueError
from runner.repairs import RepairLog
from runner.runtime import ERROR_CHARS, Halt, Runtime
from runner.venue_faults import restricted
from state_store.desired import DesiredState
from state_store.errors import REDIS_UNAVAILABLE, OperationalError

log = logging.getLogger(__name__)


def venue_failed(rt: Runtime, exc: VenueError) -> None:
    """A tick ended on a temporary venue error: count it, remember it as the current error."""
    rt.counters.venue_errors += 1
    rt.counters.last_venue_error = str(exc)[:ERROR_CHARS]
    if restricted(rt.restriction, exc, time.time()):
        return  # said once by venue_faults; status shows it until it passes
    first = rt.venue_health.unresponsive_since is None
    rt.venue_health.failed(exc, time.time())
    if first and rt.venue_health.unresponsive_since is not None:
        log.warning("venue unresponsive (%s): no new orders until it answers", exc)
    else:
        log.warning("venue error in tick %d: %s", rt.tick, exc)


def venue_answered(rt: Runtime) -> None:
    since = rt.venue_health.unresponsive_since
    if rt.venue_health.answered() and since is not None:
        log.warning("venue answers again after %.1fs unresponsive", time.time() - since)


def halt(rt: Runtime, exc: OperationalError) -> None:
    """Stop placing orders because of `exc`; log and audit it once (not once per tick)."""
    if rt.halt is None:
        version = rt.last_desired.version if rt.last_desired is not None else 0
        kind = type(exc).__name__
        rt.halt = Halt(f"{kind}: {exc}"[:ERROR_CHARS], kind, time.time(), version)
        log.error(
            "operational error, no new orders until an operator acts (ctl resume, or a "
            "restart once fixed): %s",
            rt.halt.reason,
        )
    audit_halt(rt)


def audit_halt(rt: Runtime) -> None:
    """Append the halt's audit entry once; with Redis down, try again next tick."""
    h = rt.halt
    if h is None or h.audited:
        return
    change_id = f"halt:{rt.config.replica}:{rt.pid}:{h.since:.6f}"
    args = {"replica": rt.config.replica, "kind": h.kind, "reason": h.reason}
    try:
        RepairLog(rt.store, rt.settings, who=f"runner {rt.config.replica}").record(
            "halt", change_id, args
        )
        h.audited = True
    except REDIS_UNAVAILABLE as exc:
        log.warning("could not audit the halt yet (redis: %s); next tick", exc)


def clear_if_operator_acted(rt: Runtime, desired: DesiredState) -> None:
    """A newer desired state (the operator acted) lifts the halt; a persisting cause re-halts."""
    h = rt.halt
    if h is None or desired.version <= h.desired_version or not desired.entries_allowed:
        return
    rt.halt = None
    log.warning(
        "control version %d: lifting the halt (%s); orders resume", desired.version, h.reason
    )
