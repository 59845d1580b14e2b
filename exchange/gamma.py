"""One Up/Down window from Gamma (`GET /markets/slug/{slug}`), without importing the SDK.

`exchange.streams.Discovery` parses Gamma with polymarket-client's `Market`
model; importing the SDK costs seconds (it builds hundreds of pydantic
models), which the paper runner path avoids (as `exchange.paper_signing`
does for orders). `parse_window` reads the same fields the same way (
`outcomes` and `clobTokenIds` are JSON-encoded strings, or lists, whose
orders match; decimals through `str`; the window from the slug's timestamp
to `endDate`); tests check it agrees with the SDK's parse on every sample.
`GammaClient` takes either parser (the runner picks the SDK's once the SDK
is loaded anyway: a live venue, the streams).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from exchange.slugs import parse_slug


@dataclass(frozen=True)
class DiscoveredWindow:
    slug: str
    asset: str
    interval: str
    start_ts: int  # from the slug
    end_ts: int  # from endDate
    condition_id: str
    up_token: str
    down_token: str
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    fees_enabled: bool
    fee_rate: Decimal  # feeSchedule.rate (0 when fees are off)
    fee_exponent: float
    taker_only_fees: bool
    version: str | None  # "v2" markets name outcome ids (positionIds) differently
    accepting_orders: bool
    closed: bool


Parse = Callable[[str, dict[str, Any]], DiscoveredWindow]


def parse_window(slug: str, data: Mapping[str, Any]) -> DiscoveredWindow:
    """The window of a Gamma market; ValueError when it is not an Up/Down window."""
    parts = parse_slug(slug)
    if parts is None:
        raise ValueError(f"{slug!r} is not an Up/Down slug")
    outcomes, tokens = _strings(data.get("outcomes")), _strings(data.get("clobTokenIds"))
    if len(outcomes) != 2:
        raise ValueError(f"Expected binary market outcomes, received {len(outcomes)}")
    by_label = {label.lower(): token for label, token in zip(outcomes, tokens, strict=False)}
    if set(by_label) != {"up", "down"}:
        raise ValueError(f"outcomes are {sorted(by_label)}, expected up and down")
    end, condition_id = data.get("endDate"), data.get("conditionId")
    if not end or not condition_id:
        raise ValueError("no endDate or conditionId")
    fees_enabled = bool(data.get("feesEnabled"))
    schedule = data.get("feeSchedule") or None
    return DiscoveredWindow(
        slug=slug,
        asset=parts.asset,
        interval=parts.interval,
        start_ts=parts.start_ts,
        end_ts=int(_when(end).timestamp()),
        condition_id=str(condition_id),
        up_token=by_label["up"],
        down_token=by_label["down"],
        tick_size=_decimal(data.get("orderPriceMinTickSize")) or Decimal("0.01"),
        min_order_size=_decimal(data.get("orderMinSize")) or Decimal("0"),
        neg_risk=bool(data.get("negRisk")),
        fees_enabled=fees_enabled,
        fee_rate=(_decimal(schedule.get("rate")) or Decimal(0))
        if schedule and fees_enabled
        else Decimal(0),
        fee_exponent=float(schedule.get("exponent", 1)) if schedule else 1.0,
        taker_only_fees=bool(schedule.get("takerOnly", True)) if schedule else True,
        version=str(data["version"]) if data.get("version") else None,
        accepting_orders=bool(data.get("acceptingOrders")),
        closed=bool(data.get("closed")),
    )


class GammaClient:
    """`GET {gamma_url}/markets/slug/{slug}`, parsed; counts its requests."""

    def __init__(
        self,
        gamma_url: str,
        parse: Parse = parse_window,
        http: httpx.Client | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.gamma_url = gamma_url.rstrip("/")
        self.parse = parse
        self.http = http or httpx.Client(timeout=timeout_s)
        self.requests = 0

    def fetch(self, slug: str) -> tuple[DiscoveredWindow | None, str]:
        """The window, or None and why not (`HTTP 404`, `request failed: ...`, ...)."""
        self.requests += 1
        try:
            response = self.http.get(f"{self.gamma_url}/markets/slug/{slug}")
        except httpx.HTTPError as exc:
            return None, f"request failed: {type(exc).__name__}"
        if response.status_code != 200:
            return None, f"HTTP {response.status_code}"
        try:
            return self.parse(slug, response.json()), ""
        except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError too
            return None, f"unreadable market: {exc}"

    def close(self) -> None:
        self.http.close()


def _strings(value: object) -> tuple[str, ...]:
    items = json.loads(value) if isinstance(value, str) else value
    if items is None:
        return ()
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError("expected a JSON array of strings")
    return tuple(items)


def _decimal(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"invalid decimal: {value!r}") from exc


def _when(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"invalid date: {value!r}")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
