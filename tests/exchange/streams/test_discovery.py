"""Discovering windows by slug on the paper venue's Gamma routes, and parsing Gamma's shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from exchange.gamma import parse_window
from exchange.streams import Discovery
from exchange.streams.discovery import parse_market
from tests.exchange.conftest import START, WINDOW
from tests.exchange.helpers import live_window
from tests.exchange.streams.conftest import StreamVenue

LENGTHS = {"5m": WINDOW, "15m": 3 * WINDOW}

#: A Gamma market in the documented shape: JSON-encoded strings, ISO dates.
GAMMA_MARKET = {
    "id": "123456",
    "question": "Bitcoin Up or Down - December 1, 12:00AM-12:05AM ET",
    "conditionId": "0x" + "ab" * 32,
    "slug": "btc-updown-5m-1796101200",
    "startDate": "2026-11-30T05:03:21.123Z",
    "endDate": "2026-12-01T05:05:00Z",
    "outcomes": '["Up", "Down"]',
    "outcomePrices": '["0.505", "0.495"]',
    "clobTokenIds": '["111", "222"]',
    "active": True,
    "closed": False,
    "acceptingOrders": True,
    "enableOrderBook": True,
    "negRisk": False,
    "orderMinSize": 5,
    "orderPriceMinTickSize": 0.01,
    "feesEnabled": True,
    "feeSchedule": {"exponent": 1, "rate": 0.072, "takerOnly": True, "rebateRate": 0.2},
}


def test_gamma_market_shape_is_parsed() -> None:
    window = parse_market("btc-updown-5m-1796101200", GAMMA_MARKET)
    assert (window.up_token, window.down_token) == ("111", "222")
    assert window.start_ts == 1796101200  # the slug's timestamp, not startDate
    assert window.end_ts == 1796101500
    assert (window.tick_size, window.min_order_size) == (Decimal("0.01"), Decimal("5"))
    assert window.fees_enabled and window.fee_rate == Decimal("0.072") and not window.neg_risk


def test_outcome_order_follows_the_labels() -> None:
    swapped = GAMMA_MARKET | {"outcomes": '["Down", "Up"]', "clobTokenIds": '["222", "111"]'}
    window = parse_market("btc-updown-5m-1796101200", swapped)
    assert (window.up_token, window.down_token) == ("111", "222")


@pytest.fixture
def finders() -> Iterator[list[Discovery]]:
    made: list[Discovery] = []
    yield made
    for finder in made:
        finder.close()


def discovery(venue: StreamVenue, made: list[Discovery], **options: Any) -> Discovery:
    finder = Discovery(venue.url, [("btc", "5m"), ("eth", "15m")], LENGTHS, **options)
    made.append(finder)
    return finder


def test_current_and_next_windows_are_found_before_they_open(
    stream_venue: StreamVenue, finders: list[Discovery]
) -> None:
    found = discovery(stream_venue, finders).upcoming(START, ahead=1)
    slugs = [w.slug for w in found]
    assert slugs == [
        f"btc-updown-5m-{START}",
        f"btc-updown-5m-{START + WINDOW}",
        f"eth-updown-15m-{START}",
        f"eth-updown-15m-{START + 3 * WINDOW}",
    ]
    current = live_window(stream_venue.client)
    assert (found[0].up_token, found[0].down_token) == (current.up_token, current.down_token)
    assert found[0].condition_id == current.condition_id
    upcoming = found[1]
    assert upcoming.start_ts == START + WINDOW and upcoming.end_ts == START + 2 * WINDOW
    assert upcoming.accepting_orders and not upcoming.closed
    stream_venue.clock.advance(WINDOW)
    opened = live_window(stream_venue.client)
    assert (opened.slug, opened.up_token) == (upcoming.slug, upcoming.up_token)


def test_an_unlisted_window_is_reported_not_asked_every_tick(
    stream_venue: StreamVenue, finders: list[Discovery]
) -> None:
    now = [0.0]
    finder = discovery(stream_venue, finders, retry_after_s=30.0, clock=lambda: now[0])
    slug = f"btc-updown-5m-{START + WINDOW}"
    stream_venue.faults.unlist(slug)
    for _ in range(5):
        assert finder.window(slug) is None
    assert finder.requests == 1
    assert [(m.slug, m.reason) for m in finder.missing()] == [(slug, "HTTP 404")]
    stream_venue.faults.reset()
    now[0] = 31.0
    assert finder.window(slug) is not None and finder.missing() == []
    assert finder.requests == 2


def test_event_route_and_off_grid_slugs(stream_venue: StreamVenue) -> None:
    event = httpx.get(f"{stream_venue.url}/events/slug/btc-updown-5m-{START}").json()
    market = event["markets"][0]
    assert market["slug"] == event["slug"] == f"btc-updown-5m-{START}"
    assert json.loads(market["clobTokenIds"]) and json.loads(market["outcomes"]) == ["Up", "Down"]
    for slug in (f"btc-updown-5m-{START + 7}", "doge-updown-5m-0", f"sol-updown-5m-{START}"):
        assert httpx.get(f"{stream_venue.url}/markets/slug/{slug}").status_code == 404


def test_neg_risk_fees_off_and_v2_markets() -> None:
    sample = GAMMA_MARKET | {
        "negRisk": True,
        "feesEnabled": False,
        "version": "v2",
        "orderPriceMinTickSize": 0.001,
        "orderMinSize": 1,
        "startDate": "2026-11-30T05:05:00Z",  # created a day early: not the window's start
    }
    window = parse_market("btc-updown-5m-1796101200", sample)
    assert window.neg_risk and window.version == "v2"
    assert not window.fees_enabled and window.fee_rate == 0  # the schedule is off
    assert (window.tick_size, window.min_order_size) == (Decimal("0.001"), Decimal("1"))
    assert (window.start_ts, window.end_ts) == (1796101200, 1796101500)


def test_markets_that_are_not_up_down_windows_are_refused() -> None:
    yes_no = GAMMA_MARKET | {"outcomes": '["Yes", "No"]'}
    with pytest.raises(ValueError, match="expected up and down"):
        parse_market("btc-updown-5m-1796101200", yes_no)
    with pytest.raises(ValueError, match="not an Up/Down slug"):
        parse_market("will-it-rain-tomorrow", GAMMA_MARKET)


def test_the_paper_venue_lists_its_own_fee_in_gammas_shape(stream_venue: StreamVenue) -> None:
    raw = httpx.get(f"{stream_venue.url}/markets/slug/btc-updown-5m-{START}").json()
    assert isinstance(raw["clobTokenIds"], str) and isinstance(raw["outcomes"], str)
    assert raw["feesEnabled"] is True and raw["feeSchedule"]["rate"] == 0.07
    window = parse_market(raw["slug"], raw)
    assert window.fee_rate == Decimal("0.07") and window.fee_exponent == 1
    assert window.start_ts == START and raw["startDate"] < raw["endDate"]


def _paper_sample(venue: StreamVenue) -> dict[str, Any]:
    raw: dict[str, Any] = httpx.get(f"{venue.url}/markets/slug/btc-updown-5m-{START}").json()
    return raw


def test_the_sdk_free_parser_agrees_with_the_sdks(stream_venue: StreamVenue) -> None:
    slug = "btc-updown-5m-1796101200"
    samples = [
        GAMMA_MARKET,
        GAMMA_MARKET | {"outcomes": '["Down", "Up"]', "clobTokenIds": '["222", "111"]'},
        GAMMA_MARKET | {"negRisk": True, "feesEnabled": False, "version": "v2"},
        GAMMA_MARKET | {"orderPriceMinTickSize": "0.001", "orderMinSize": None},
        GAMMA_MARKET | {"outcomes": ["Up", "Down"], "clobTokenIds": ["111", "222"]},
        {k: v for k, v in GAMMA_MARKET.items() if k != "feeSchedule"},
    ]
    for sample in samples:
        assert parse_window(slug, sample) == parse_market(slug, sample), sample
    paper = _paper_sample(stream_venue)
    assert parse_window(paper["slug"], paper) == parse_market(paper["slug"], paper)
    for bad in (
        GAMMA_MARKET | {"outcomes": '["Yes", "No"]'},
        GAMMA_MARKET | {"outcomes": '["Up", "Down", "Flat"]'},
        GAMMA_MARKET | {"clobTokenIds": "not json"},
    ):
        with pytest.raises(ValueError):
            parse_market(slug, bad)
        with pytest.raises(ValueError):
            parse_window(slug, bad)
