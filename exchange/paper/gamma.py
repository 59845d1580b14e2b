"""A Gamma-like discovery API on the paper venue: `/markets/slug/{slug}`, `/events/slug/{slug}`.

Shapes follow the real Gamma API as polymarket-client reads it:
`outcomes`, `outcomePrices` and `clobTokenIds` are JSON-encoded strings
whose orders match; `startDate` is when the market was created (the venue
lists a window `gamma_lookahead_s` before it starts, as the real one lists
them about a day early), `endDate` is the end of the window; the window
itself starts at the slug's timestamp. Fee data: `feesEnabled` and
`feeSchedule` (`rate`, `exponent`, `takerOnly`, `rebateRate`), the venue's own
taker fee (`PaperConfig.fee_rate`, `fee_exponent`; makers pay none).
A slug of no configured series, not yet listed, or unlisted by the fault
switch answers 404 as Gamma does.
"""

from __future__ import annotations

import json
from typing import Any, cast

from fastapi import APIRouter, Request

from exchange.paper.engine import PaperEngine
from exchange.paper.errors import not_found
from exchange.paper.models import PaperWindow
from exchange.paper.replies import QUESTION, iso
from exchange.paper.stream_faults import StreamFaults

router = APIRouter()
RESOLUTION_SOURCE = "paper venue reference process (stands for the Chainlink data stream)"


def _listed(request: Request, slug: str) -> tuple[PaperWindow, float]:
    engine = cast(PaperEngine, request.app.state.engine)
    faults = cast(StreamFaults, request.app.state.stream_faults)
    with engine.lock:
        now = engine.advance()
        window = engine.schedule.describe(slug, now)
    lookahead = faults.settings.gamma_lookahead_s
    if window is None or slug in faults.unlisted or window.start_ts > now + lookahead:
        raise not_found("not found")
    return window, now


def market_json(
    window: PaperWindow, engine: PaperEngine, now: float, lookahead: int
) -> dict[str, Any]:
    config = engine.config
    open_now = window.is_open(now)
    closed = window.closed or now >= window.end_ts
    if window.closed:
        prices = ["1", "0"] if window.winner == "Up" else ["0", "1"]
    else:
        prices = ["0.5", "0.5"]
    title = f"{QUESTION.get(window.asset, window.asset)} Up or Down - {iso(window.start_ts)}"
    return {
        "id": str(int(window.condition_id[2:14], 16)),
        "question": title,
        "conditionId": window.condition_id,
        "slug": window.slug,
        "resolutionSource": RESOLUTION_SOURCE,
        "startDate": iso(window.start_ts - lookahead),
        "endDate": iso(window.end_ts),
        "description": 'This market will resolve to "Up" if the price at the end of the time '
        "range is greater than or equal to the price at the beginning of that range. "
        'Otherwise, it will resolve to "Down". (paper venue)',
        "outcomes": json.dumps(["Up", "Down"]),
        "outcomePrices": json.dumps(prices),
        "clobTokenIds": json.dumps([window.up_token, window.down_token]),
        "active": not closed,
        "closed": closed,
        "archived": False,
        "acceptingOrders": open_now or (not closed and window.start_ts > now),
        "enableOrderBook": True,
        "negRisk": False,
        "orderMinSize": float(config.min_order_size),
        "orderPriceMinTickSize": float(config.tick_size),
        "feesEnabled": config.fee_rate > 0,
        "feeSchedule": {
            "exponent": float(config.fee_exponent),
            "rate": float(config.fee_rate),
            "takerOnly": True,
            "rebateRate": 0,
        },
        "events": [{"id": str(int(window.condition_id[14:26], 16)), "slug": window.slug}],
    }


@router.get("/markets/slug/{slug}")
def market_by_slug(request: Request, slug: str) -> Any:
    window, now = _listed(request, slug)
    engine = cast(PaperEngine, request.app.state.engine)
    lookahead = cast(StreamFaults, request.app.state.stream_faults).settings.gamma_lookahead_s
    return market_json(window, engine, now, lookahead)


@router.get("/events/slug/{slug}")
def event_by_slug(request: Request, slug: str) -> Any:
    window, now = _listed(request, slug)
    engine = cast(PaperEngine, request.app.state.engine)
    lookahead = cast(StreamFaults, request.app.state.stream_faults).settings.gamma_lookahead_s
    market = market_json(window, engine, now, lookahead)
    return {
        "id": market["events"][0]["id"],
        "slug": window.slug,
        "title": market["question"],
        "startDate": market["startDate"],
        "endDate": market["endDate"],
        "active": market["active"],
        "closed": market["closed"],
        "negRisk": False,
        "markets": [market],
    }
