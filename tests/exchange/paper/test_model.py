"""The paper venue's clock, price process, books and matching, without HTTP."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal

import fakeredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.paper.books import BookMaker, SyntheticBook, depth_field, normal_cdf
from exchange.paper.clock import Anchor, ManualClock, VenueClock
from exchange.paper.config import PaperConfig
from exchange.paper.matching import sweep
from exchange.paper.models import PaperWindow
from exchange.paper.prices import PriceProcess, brownian, format_price


def test_clock_runs_at_speed_and_reanchors_without_a_jump() -> None:
    real = ManualClock(100.0)
    clock = VenueClock(Anchor(real=100.0, venue=5_000.0, speed=15.0), real)
    real.advance(2)
    assert clock.now() == 5_030.0
    faster = clock.anchor.with_speed(60.0, real())
    assert faster.venue_time(real()) == 5_030.0
    assert faster.venue_time(real() + 1) == 5_090.0
    assert clock.anchor.with_speed(15.0, real()) is clock.anchor
    with pytest.raises(ValueError):
        VenueClock(Anchor(0, 0, 0.0), real)
    with pytest.raises(ValueError):
        real.advance(-1)


def test_prices_are_a_pure_function_of_seed_and_time() -> None:
    a = PriceProcess(seed=1, annual_vol=0.6, origin_ts=1_700_000_000)
    b = PriceProcess(seed=1, annual_vol=0.6, origin_ts=1_700_000_000)
    other = PriceProcess(seed=2, annual_vol=0.6, origin_ts=1_700_000_000)
    times = [1_700_000_000 + k * 37.5 for k in range(50)]
    assert [a.price("btc", t) for t in times] == [b.price("btc", t) for t in times]
    assert [a.price("btc", t) for t in times] != [other.price("btc", t) for t in times]
    assert a.price("btc", 1_700_000_000) == 95_000.0
    assert a.price("btc", 1_700_000_000.9) == a.price("btc", 1_700_000_000)  # one value a second
    assert a.quote("btc", 1_700_000_000) == "95000.00"
    assert format_price(2.123456) == "2.1235"


def test_brownian_increments_look_standard_normal() -> None:
    start = 1_700_000_000
    steps = [brownian(3, "eth", start + k + 1) - brownian(3, "eth", start + k) for k in range(4000)]
    assert abs(statistics.fmean(steps)) < 0.06
    assert 0.9 < statistics.pvariance(steps) < 1.1
    with pytest.raises(ValueError):
        brownian(3, "eth", -1)


def _window(start_price: str = "100.00") -> PaperWindow:
    return PaperWindow(
        slug="btc-updown-5m-0",
        condition_id="0xc",
        asset="btc",
        interval="5m",
        length=300,
        start_ts=1_700_000_100,
        end_ts=1_700_000_400,
        up_token="up",
        down_token="down",
        start_price=start_price,
    )


def _maker() -> BookMaker:
    config = PaperConfig(redis=fakeredis.FakeRedis(decode_responses=True))
    origin = {"btc": 100.0}
    return BookMaker(config, PriceProcess(5, 0.6, 1_700_000_000, origin_prices=origin))


@pytest.fixture
def maker() -> BookMaker:
    return _maker()


MAKER = _maker()  # stateless: shared by the hypothesis examples


def test_fair_value_is_a_probability_that_settles_at_the_end(maker: BookMaker) -> None:
    window = _window()
    fair = [maker.fair_up(window, t) for t in range(window.start_ts, window.end_ts + 1, 10)]
    assert all(0.0 <= p <= 1.0 for p in fair)
    assert fair[-1] in (0.0, 1.0)
    higher = _window(start_price="50.00")  # price far above the start: Up nearly sure
    assert maker.fair_up(higher, window.start_ts + 100) > 0.999


@settings(max_examples=200, deadline=None)
@given(
    step=st.integers(1_700_000_100, 1_700_000_399),
    start=st.sampled_from(["90", "99.9", "100", "100.1", "120"]),
)
def test_books_are_sane_and_mirrored(step: int, start: str) -> None:
    window = _window(start_price=start)
    up = MAKER.book(window, "Up", step)
    down = MAKER.book(window, "Down", step)
    for book in (up, down):
        _assert_sane(book)
    assert [q.price for q in down.bids] == [1 - q.price for q in up.asks]
    assert [q.size for q in down.asks] == [q.size for q in up.bids]
    assert up.fair + down.fair == pytest.approx(1.0)


def _assert_sane(book: SyntheticBook) -> None:
    tick = Decimal("0.01")
    assert book.bids and book.asks
    assert book.bids[0].price < book.asks[0].price
    prices = [q.price for q in book.bids + book.asks]
    assert all(tick <= p <= 1 - tick and p % tick == 0 for p in prices)
    assert [q.price for q in book.bids] == sorted((q.price for q in book.bids), reverse=True)
    assert [q.price for q in book.asks] == sorted(q.price for q in book.asks)
    assert all(q.size > 0 for q in book.bids + book.asks)


def test_sweep_walks_levels_and_respects_depth_used(maker: BookMaker) -> None:
    book = maker.book(_window(), "Up", 1_700_000_150)
    best, second = book.asks[0], book.asks[1]
    limit = second.price
    want = best.size + Decimal(1)
    takes = sweep(book, "Up", "BUY", limit, want, lambda f: Decimal(0))
    assert [(t.price, t.size) for t in takes] == [
        (best.price, best.size),
        (second.price, Decimal(1)),
    ]
    # the best level already taken this second: the order goes one level deeper
    used = {depth_field("Up", "BUY", best.price): best.size}
    takes = sweep(book, "Up", "BUY", limit, Decimal(1), lambda f: used.get(f, Decimal(0)))
    assert [(t.price, t.size) for t in takes] == [(second.price, Decimal(1))]
    assert sweep(book, "Up", "BUY", best.price - Decimal("0.01"), want, lambda f: Decimal(0)) == []
    # buying Down takes the Up bids
    down = maker.book(_window(), "Down", 1_700_000_150)
    [take] = sweep(down, "Down", "BUY", down.asks[0].price, Decimal(1), lambda f: Decimal(0))
    assert take.depth_field == f"bid:{1 - down.asks[0].price}"


def test_normal_cdf_sanity() -> None:
    assert normal_cdf(0.0) == 0.5
    assert math.isclose(normal_cdf(1.96), 0.975, abs_tol=1e-3)
