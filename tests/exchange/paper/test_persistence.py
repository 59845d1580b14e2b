"""The venue's state lives in Redis: a restart on the same Redis carries on where it was."""

from __future__ import annotations

from collections.abc import Callable

import redis

from exchange import ClobClient
from exchange.paper import ManualClock
from tests.exchange.conftest import NO_WAIT, START, WINDOW, AppFactory, TestClient
from tests.exchange.helpers import live_window, order


def _client(http: TestClient) -> ClobClient:
    return ClobClient("http://testserver", http=http, retry=NO_WAIT, sleep=lambda s: None)


def test_restart_keeps_orders_trades_and_windows(
    make_app: AppFactory, clock: ManualClock, real_redis: redis.Redis
) -> None:
    with TestClient(make_app()) as http:
        before = _client(http)
        window = live_window(before)
        book = before.books([window.up_token])[window.up_token]
        assert book.best_ask is not None and book.best_bid is not None
        taken = before.place(order("take", window.up_token, "BUY", book.best_ask, "10"))
        rest = before.place(order("rest", window.down_token, "BUY", "0.02", "5"))
        fills_before, cursor = before.fills_since(None)
        orders_before = before.open_orders()

    clock.advance(3)
    with TestClient(make_app()) as http:  # a new process, the same Redis
        after = _client(http)
        assert after.server_time() == START + 3  # the clock continues
        assert live_window(after) == window  # same ids, same start price
        assert after.open_orders() == orders_before
        stored = after.get_order(taken.order_id)
        assert stored is not None and stored.status == "matched"
        assert after.fills_since(None)[0] == fills_before
        assert after.fills_since(cursor)[0] == []
        # the same client order id posted again after the restart: still one order
        assert after.place(order("take", window.up_token, "BUY", book.best_ask, "10")) == taken
        assert after.place(order("rest", window.down_token, "BUY", "0.02", "5")) == rest
        assert [o.order_id for o in after.open_orders()] == [rest.order_id]
    keys = [str(key) for key in real_redis.scan_iter("*")]
    assert keys and all(key.startswith("pv:{paper}:") for key in keys)  # nothing else written


def test_same_client_order_id_twice_is_one_order(
    venue: ClobClient, real_redis: redis.Redis
) -> None:
    up = live_window(venue).up_token
    results = [venue.place(order("once", up, "BUY", "0.03", "5")) for _ in range(3)]
    assert len({r.order_id for r in results}) == 1
    assert len(venue.open_orders()) == 1
    assert real_redis.zcard("pv:{paper}:orders:paper") == 1


def test_resting_order_placed_before_a_restart_fills_after_it(
    make_app: AppFactory, clock: ManualClock
) -> None:
    with TestClient(make_app()) as http:
        client = _client(http)
        window = live_window(client)
        books = client.books([window.up_token, window.down_token])
        ids = [
            client.place(
                order(f"r-{o}", window.token(o), "BUY", books[window.token(o)].best_bid)
            ).order_id
            for o in ("Up", "Down")
        ]
    clock.advance(WINDOW - 1)  # the venue is down for the rest of the window
    with TestClient(make_app()) as http:
        client = _client(http)
        fills, _ = client.fills_since(None)
        assert {f.order_id for f in fills} & set(ids), "caught up on every second it missed"
        assert all(START < f.ts < START + WINDOW for f in fills)


def test_restart_with_another_speed_does_not_jump(make_app: AppFactory, clock: ManualClock) -> None:
    with TestClient(make_app()) as http:
        clock.advance(10)
        assert _client(http).server_time() == START + 10
    with TestClient(make_app(speed=4.0)) as http:
        client = _client(http)
        assert client.server_time() == START + 10
        clock.advance(5)
        assert client.server_time() == START + 30


def test_speed_and_window_override(make_app: Callable[..., object], clock: ManualClock) -> None:
    app = make_app(speed=15.0, window_seconds=None)
    with TestClient(app) as http:  # type: ignore[arg-type]
        client = _client(http)
        clock.advance(2)
        assert client.server_time() == START + 30
        windows = client.list_windows()
        assert {w.interval_s for w in windows} == {300, 900}
        assert all(w.start_ts % w.interval_s == 0 for w in windows)
        five = live_window(client)
        assert five.slug == f"btc-updown-5m-{START}" and five.end_ts == START + 300
        clock.advance(20)  # 20 wall seconds at 15x: the 5m window is over
        resolution = client.resolution(five.slug)
        assert resolution is not None
