from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import redis

from state_store.keys import Keys
from state_store.models import Fill, Intent, OrderStatus, Window, WindowStatus
from state_store.store import FencedOut, Lease, Store
from tests.state_store.conftest import D, make_window

OpenMarket = Callable[..., tuple[Window, Lease]]


def buy_up(market: str, key: str = "entry", price: str = "0.4", size: str = "10") -> Intent:
    return Intent(key=key, market=market, outcome="Up", side="BUY", price=D(price), size=D(size))


def test_create_order_is_idempotent_by_intent(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    coid, first = store.create_order("momentum", buy_up(window.market), window, lease)
    again, second = store.create_order("momentum", buy_up(window.market), window, lease)
    assert (first.outcome, second.outcome) == ("created", "exists")
    assert coid == again
    assert [o.client_order_id for o in store.pending_orders()] == [coid]


def test_client_order_id_depends_on_strategy_market_window_and_key(store: Store) -> None:
    w1, w2 = make_window("m1", 100.0), make_window("m1", 400.0)
    intent = buy_up("m1")
    ids = {
        store.client_order_id("a", intent, w1),
        store.client_order_id("b", intent, w1),
        store.client_order_id("a", intent, w2),
        store.client_order_id("a", buy_up("m1", key="other"), w1),
    }
    assert len(ids) == 4
    assert store.client_order_id("a", intent, w1) == Store(store.client, "default").client_order_id(
        "a", intent, w1
    )


def test_create_order_refuses_a_stale_fencing_token(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    assert store.release_lease(lease)
    newer = store.claim_lease(window.market, "r2", 30_000)
    assert newer is not None and newer.token > lease.token
    with pytest.raises(FencedOut):
        store.create_order("momentum", buy_up(window.market), window, lease)
    assert store.pending_orders() == []


def test_create_order_refuses_closed_window(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    store.close_window(window.market)
    _, result = store.create_order("momentum", buy_up(window.market), window, lease)
    assert result.outcome == "window_closed"
    assert store.pending_orders() == []


def test_order_lifecycle_moves_forward_only(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    coid, _ = store.create_order("s", buy_up(window.market), window, lease)
    assert store.ack_order(coid, window.market, "submitted").outcome == "applied"
    assert store.ack_order(coid, window.market, "live", venue_order_id="0xabc").changed
    assert store.ack_order(coid, window.market, "submitted").outcome == "noop"
    assert store.ack_order(coid, window.market, "rejected").outcome == "noop"
    order = store.order(coid)
    assert order is not None and order.status == OrderStatus.LIVE
    assert order.venue_order_id == "0xabc"


def fill(coid: str, market: str, fill_id: str, size: str, price: str = "0.4") -> Fill:
    return Fill(fill_id, coid, market, "Up", "BUY", D(price), D(size), ts=1.0)


def test_fill_updates_order_and_position_once(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    coid, _ = store.create_order("s", buy_up(window.market), window, lease)
    assert store.apply_fill(fill(coid, window.market, "f1", "4")).detail == "partially_filled"
    assert store.apply_fill(fill(coid, window.market, "f1", "4")).outcome == "duplicate"
    assert store.apply_fill(fill(coid, window.market, "f2", "6", "0.41")).detail == "filled"
    pos = store.position(window.market)
    assert (pos.up_shares, pos.cash, pos.fill_count) == (D(10), D("-4.06"), 2)
    assert store.pending_orders() == []
    order = store.order(coid)
    assert order is not None and order.filled == D(10)


def test_fill_for_unknown_or_mismatched_order_is_refused(
    store: Store, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    assert store.apply_fill(fill("nope", window.market, "f1", "1")).outcome == "unknown_order"
    coid, _ = store.create_order("s", buy_up(window.market), window, lease)
    wrong = Fill("f2", coid, window.market, "Down", "BUY", D("0.5"), D("1"))
    assert store.apply_fill(wrong).outcome == "mismatch"
    assert store.position(window.market).fill_count == 0


def test_cancel_then_late_fill_still_counts(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    coid, _ = store.create_order("s", buy_up(window.market), window, lease)
    assert store.cancel_order(coid, window.market).changed
    assert store.cancel_order(coid, window.market).outcome == "noop"
    assert store.apply_fill(fill(coid, window.market, "f1", "3")).detail == "cancelled"
    assert store.position(window.market).up_shares == D(3)


def test_settle_pays_winner_once(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    coid, _ = store.create_order("s", buy_up(window.market), window, lease)
    store.apply_fill(fill(coid, window.market, "f1", "10", "0.4"))
    assert store.settle_window(window.market, "Up", "97100").detail == "6"
    assert store.settle_window(window.market, "Up", "97100").outcome == "already"
    pos = store.position(window.market)
    assert (pos.payout, pos.realized_pnl, pos.settled) == (D(10), D(6), True)
    settled = store.window(window.market)
    assert settled is not None and settled.status == WindowStatus.SETTLED


def test_fees_are_recorded_in_the_fill_and_the_position_and_pnl_is_net(
    store: Store, client: redis.Redis, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    coid, _ = store.create_order("s", buy_up(window.market), window, lease)
    taker = Fill("f1", coid, window.market, "Up", "BUY", D("0.4"), D("6"), 1.0, "", D("0.1008"))
    maker = Fill("f2", coid, window.market, "Up", "BUY", D("0.4"), D("4"), 2.0)  # pays none
    assert store.apply_fill(taker).outcome == "applied"
    assert store.apply_fill(taker).outcome == "duplicate"  # the fee is not charged twice
    store.apply_fill(maker)
    keys = Keys("default")
    assert client.hget(keys.fill("f1"), "fee") == "0.1008"  # readable, in the fill
    assert client.hget(keys.fill("f2"), "fee") == "0"
    raw = client.hgetall(keys.position(window.market))
    assert raw["fees"] == "0.1008" and raw["cash"] == "-4.1008"
    pos = store.position(window.market)
    assert (pos.fees, pos.cash) == (D("0.1008"), D("-4.1008"))
    assert store.settle_window(window.market, "Up").outcome == "settled"
    assert store.position(window.market).realized_pnl == D("5.8992")  # 10 - 4 - fee
    late = Fill("f3", coid, window.market, "Up", "BUY", D("0.4"), D("0"), 3.0, "", D("0.01"))
    store.apply_fill(late)  # a late fill's fee re-prices the settlement too
    assert store.position(window.market).realized_pnl == D("5.8892")
    found = store.fill("f1")
    assert found is not None and found.fee == D("0.1008")


def test_settle_losing_side_realises_the_cost(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    coid, _ = store.create_order("s", buy_up(window.market), window, lease)
    store.apply_fill(fill(coid, window.market, "f1", "10", "0.4"))
    store.settle_window(window.market, "Down")
    assert store.position(window.market).realized_pnl == D(-4)


def test_roll_window_closes_previous(store: Store) -> None:
    old, new = make_window("m-old", 100.0), make_window("m-new", 400.0)
    store.open_window(old)
    assert store.open_window(new, rolls_from=old.market).outcome == "created"
    assert store.open_window(new, rolls_from=old.market).outcome == "exists"
    statuses = {w.market: w.status for w in store.windows()}
    assert statuses == {"m-old": WindowStatus.CLOSED, "m-new": WindowStatus.OPEN}


def test_window_terms_are_recorded_once_and_kept(store: Store) -> None:
    terms: dict[str, Any] = {
        "tick_size": D("0.01"), "min_order_size": D(5), "fee_rate": D("0.072"),
        "fee_exponent": D(1), "neg_risk": True, "terms_source": "gamma",
    }  # fmt: skip
    listed, found = make_window("m-a"), replace(make_window("m-b"), **terms)
    assert store.open_window(found).outcome == "created"
    assert store.open_window(replace(found, tick_size=D("0.001"))).outcome == "exists"
    assert store.open_window(make_window("m-b")).outcome == "exists"  # a listing: no terms
    assert store.window("m-b") == replace(found, strike_source="venue")  # the first terms kept
    store.open_window(listed)
    assert store.window("m-a") == replace(listed, strike_source="venue")  # no terms recorded
    store.open_window(replace(listed, **terms))  # discovered after it was listed
    assert store.window("m-a") == replace(listed, strike_source="venue", **terms)


def test_lease_is_exclusive_and_fenced(store: Store) -> None:
    first = store.claim_lease("m", "r1", 30_000)
    assert first is not None
    assert store.claim_lease("m", "r2", 30_000) is None
    renewed = store.claim_lease("m", "r1", 30_000)
    assert renewed == first
    assert store.renew_lease(first, 30_000)
    assert not store.release_lease(Lease("m", "r2", first.token))
    assert store.release_lease(first)
    second = store.claim_lease("m", "r2", 30_000)
    assert second is not None and second.token > first.token


def test_snapshot_reads_many_markets(store: Store, open_market: OpenMarket) -> None:
    markets = [f"btc-updown-5m-{1764000000 + 300 * i}" for i in range(5)]
    coids = {}
    for m in markets:
        window, lease = open_market(m)
        coids[m], _ = store.create_order("s", buy_up(m), window, lease)
    store.apply_fill(fill(coids[markets[0]], markets[0], "f1", "10"))
    snap = store.snapshot([*markets, "unknown-market"])
    assert snap[markets[0]].open_orders == ()
    assert snap[markets[0]].position.up_shares == D(10)
    assert [o.client_order_id for o in snap[markets[1]].open_orders] == [coids[markets[1]]]
    assert snap["unknown-market"].window is None
    assert snap["unknown-market"].position.fill_count == 0


def test_hashes_are_readable_with_plain_commands(
    store: Store, client: redis.Redis, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    coid, _ = store.create_order(
        "s", buy_up(window.market, price="0.45", size="12.5"), window, lease
    )
    store.apply_fill(fill(coid, window.market, "f1", "12.5", "0.45"))
    keys = Keys("default")
    pos = client.hgetall(keys.position(window.market))
    assert pos["up_shares"] == "12.5" and pos["cash"] == "-5.625"
    order = client.hgetall(keys.order(coid))
    assert order["status"] == "filled" and order["price"] == "0.45"
    assert keys.position(window.market) == f"nb:{{default}}:pos:{window.market}"


def test_execute_runs_many_transitions_in_one_pipeline(
    store: Store, open_market: OpenMarket
) -> None:
    from state_store import transitions as t

    window, lease = open_market()
    intents = [buy_up(window.market, key=f"k{i}") for i in range(3)]
    coids = [store.client_order_id("s", i, window) for i in intents]
    creates = [
        t.create_order(store.keys, c, "s", i, window, lease, f"0xv{n}")
        for n, (c, i) in enumerate(zip(coids, intents, strict=True))
    ]
    assert [r.outcome for r in store.execute(creates)] == ["created"] * 3
    assert [r.outcome for r in store.execute(creates)] == ["exists"] * 3
    acks = [t.ack_order(store.keys, c, window.market, "live") for c in coids]
    assert all(r.changed for r in store.execute(acks))
    assert store.coid_for_venue_order("0xv1") == coids[1]
    assert store.execute([]) == []


def test_closed_windows_are_unsettled_until_settled(store: Store) -> None:
    old, new = make_window("m-old", 100.0), make_window("m-new", 400.0)
    store.open_window(old)
    store.open_window(new, rolls_from=old.market)
    store.open_window(make_window("m-3", 700.0))
    store.close_window("m-3")
    assert store.unsettled_markets() == ["m-3", "m-old"]
    store.settle_window("m-old", "Down")
    assert store.unsettled_markets() == ["m-3"]


def test_open_markets_tracks_open_windows_only(store: Store) -> None:
    a, b, c = make_window("m-a", 100.0), make_window("m-b", 400.0), make_window("m-c", 700.0)
    store.open_window(a)
    store.open_window(b, rolls_from=a.market)
    store.open_window(c)
    store.close_window("m-c")
    assert store.open_markets() == ["m-b"]
    store.settle_window("m-b", "Up")
    assert store.open_markets() == []


def test_a_fill_after_settlement_reprices_it(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    coid, _ = store.create_order("s", buy_up(window.market, size="20"), window, lease)
    store.apply_fill(fill(coid, window.market, "f1", "10", "0.4"))
    assert store.settle_window(window.market, "Up").detail == "6"
    store.apply_fill(fill(coid, window.market, "f2", "5", "0.4"))  # reported late
    pos = store.position(window.market)
    assert (pos.payout, pos.realized_pnl) == (D(15), D(9))


def test_settlement_counts_a_net_short_of_the_winner(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    sell = Intent("exit", window.market, "Up", "SELL", D("0.6"), D("10"))
    coid, _ = store.create_order("s", sell, window, lease)
    store.apply_fill(Fill("f1", coid, window.market, "Up", "SELL", D("0.6"), D("10")))
    assert store.settle_window(window.market, "Up").detail == "-4"


def test_ack_with_a_lost_lease_is_fenced(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    coid, _ = store.create_order("s", buy_up(window.market), window, lease)
    store.release_lease(lease)
    assert store.claim_lease(window.market, "r2", 30_000) is not None
    assert store.ack_order(coid, window.market, "submitted", lease=lease).outcome == "fenced"
    order = store.order(coid)
    assert order is not None and order.status == OrderStatus.NEW
