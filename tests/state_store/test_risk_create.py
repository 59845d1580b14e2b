"""create_order.lua with risk limits: a BUY past a limit is refused, a SELL never is
(on fakeredis and on a real redis-server)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from state_store import transitions as t
from state_store.models import Fill, Intent, Window
from state_store.risk import Limits
from state_store.store import Lease, Store

OpenMarket = Callable[..., tuple[Window, Lease]]
ROOMY = Limits(Decimal(1000), Decimal(1000), 100, Decimal(1000))


def create(
    store: Store, window: Window, lease: Lease, intent: Intent, bot: Limits, mine: Limits = ROOMY
) -> tuple[str, str]:
    coid = store.client_order_id("s", intent, window)
    limits = t.EntryLimits(bot, mine)
    result = store.run(t.create_order(store.keys, coid, "s", intent, window, lease, "", limits))
    return result.outcome, result.detail


def order(market: str, key: str, side: str, size: str = "10", price: str = "0.5") -> Intent:
    return Intent(key, market, "Up", side, Decimal(price), Decimal(size))  # type: ignore[arg-type]


def test_each_limit_refuses_the_buy_that_would_pass_it(
    store: Store, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    m = window.market
    tight = Limits(Decimal(15), Decimal(100), 100, Decimal(1000))
    assert create(store, window, lease, order(m, "a", "BUY"), tight) == ("created", "new")
    refused = create(store, window, lease, order(m, "b", "BUY"), tight)
    assert refused == ("refused", "bot.max_shares")
    few = Limits(Decimal(1000), Decimal(1000), 1, Decimal(1000))
    assert create(store, window, lease, order(m, "c", "BUY"), ROOMY, few) == (
        "refused", "s.max_open_orders",
    )  # fmt: skip
    cheap = Limits(Decimal(1000), Decimal("9.99"), 100, Decimal(1000))  # 5 held + 5 more
    assert create(store, window, lease, order(m, "d", "BUY"), cheap) == (
        "refused", "bot.max_notional",
    )  # fmt: skip
    assert [o.intent_key for o in store.pending_orders()] == ["a"]


def test_a_sell_is_created_whatever_the_limits(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    m = window.market
    coid, _ = store.create_order("s", order(m, "in", "BUY"), window, lease)
    store.apply_fill(Fill("f1", coid, m, "Up", "BUY", Decimal("0.5"), Decimal(10)))
    none = Limits(Decimal(0), Decimal(0), 0, Decimal(0))
    assert create(store, window, lease, order(m, "out", "SELL"), none, none)[0] == "created"
    assert create(store, window, lease, order(m, "more", "BUY"), none, none)[0] == "refused"


def test_a_filled_order_counts_its_fill_not_its_size(store: Store, open_market: OpenMarket) -> None:
    window, lease = open_market()
    m = window.market
    coid, _ = store.create_order("s", order(m, "in", "BUY"), window, lease)
    store.apply_fill(Fill("f1", coid, m, "Up", "BUY", Decimal("0.5"), Decimal(4)))
    store.cancel_order(coid, m, "cancelled")  # 4 of 10 filled, the rest cancelled
    limits = Limits(Decimal(10), Decimal(1000), 100, Decimal(1000))
    assert create(store, window, lease, order(m, "six", "BUY", "6"), limits)[0] == "created"
    assert create(store, window, lease, order(m, "one", "BUY", "1"), limits)[0] == "refused"


def test_a_strategy_limit_counts_its_own_fills_and_open_buys_only(
    store: Store, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    m = window.market
    coid, _ = store.create_order("s", order(m, "in", "BUY"), window, lease)
    fill = Fill("f1", coid, m, "Up", "BUY", Decimal("0.5"), Decimal(10))
    store.apply_fill(fill)
    store.create_order("other", order(m, "theirs", "BUY"), window, lease)  # 10 open, not s's
    own = Limits(Decimal(15), Decimal(1000), 100, Decimal(1000))
    assert create(store, window, lease, order(m, "six", "BUY", "6"), ROOMY, own) == (
        "refused", "s.max_shares",
    )  # fmt: skip
    assert create(store, window, lease, order(m, "five", "BUY", "5"), ROOMY, own)[0] == "created"
    store.reverse_fill(fill)  # its trade FAILED: the shares were never s's
    past = create(store, window, lease, order(m, "eleven", "BUY", "11"), ROOMY, own)
    assert past == ("refused", "s.max_shares")  # 5 open + 11 > 15
    assert create(store, window, lease, order(m, "ten", "BUY", "10"), ROOMY, own)[0] == "created"
