"""Risk limits no benchmark or chaos run reaches.

The conservative defaults (`state_store.risk`) refuse a bot's buys after 100
shares of one outcome of one market; a benchmark that answers hundreds of
book changes, or a chaos run trading for minutes, would measure refusals. So
they set these limits first, the way `neverblink ctl risk set` does (audited,
in Redis and control.json).
"""

from __future__ import annotations

from collections.abc import Mapping

from control.service import ControlService
from state_store.settings import Settings

ROOMY_RISK: Mapping[str, Mapping[str, float]] = {
    "bot": {
        "max_shares": 1_000_000,
        "max_notional": 10_000_000,
        "max_open_orders": 10_000,
        "max_daily_loss": 10_000_000,
    }
}


def set_risk_limits(settings: Settings, limits: Mapping[str, Mapping[str, float]]) -> None:
    """Set `limits` for the bot of `settings` (as `ctl risk set`, actor `bench`)."""
    service = ControlService(settings)
    try:
        values = {scope: dict(values) for scope, values in limits.items()}
        service.apply("risk_set", {"values": values}, actor="bench")
    finally:
        service.close()
