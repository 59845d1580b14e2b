"""Property: any interleaving of create/ack/fill/cancel/settle, with duplicates
and replays, leaves every position equal to the sum of its unique fills."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from state_store.models import Fill, Intent, OrderStatus
from state_store.store import Store
from tests.state_store.conftest import make_window

MARKETS = ["m-a", "m-b"]
INTENT_KEYS = ["k1", "k2", "k3"]
PRICES = [Decimal("0.01"), Decimal("0.37"), Decimal("0.5"), Decimal("0.99")]
SIZES = [Decimal("0.01"), Decimal("1"), Decimal("2.5"), Decimal("7")]

create = st.tuples(
    st.just("create"),
    st.sampled_from(MARKETS),
    st.sampled_from(INTENT_KEYS),
    st.sampled_from(["Up", "Down"]),
    st.sampled_from(["BUY", "SELL"]),
)
ack = st.tuples(
    st.just("ack"), st.integers(0, 5), st.sampled_from(["submitted", "live", "rejected"])
)
fill = st.tuples(
    st.just("fill"),
    st.integers(0, 5),
    st.integers(0, 12),
    st.sampled_from(PRICES),
    st.sampled_from(SIZES),
)
cancel = st.tuples(st.just("cancel"), st.integers(0, 5), st.sampled_from(["cancelled", "expired"]))
settle = st.tuples(st.just("settle"), st.sampled_from(MARKETS), st.sampled_from(["Up", "Down"]))
replay = st.tuples(st.just("replay"), st.integers(0, 40))
operation = st.one_of(create, ack, fill, cancel, settle, replay)


@dataclass
class Model:
    """What the store must hold, computed the obvious way."""

    orders: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # coid, market, outcome, side
    fills: dict[str, Fill] = field(default_factory=dict)
    settled: dict[str, tuple[str, Decimal]] = field(default_factory=dict)  # market -> winner, pnl


class Runner:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.model = Model()
        self.windows = {m: make_window(m, 1000.0 + i * 300) for i, m in enumerate(MARKETS)}
        self.leases = {}
        for m, w in self.windows.items():
            store.open_window(w)
            self.leases[m] = store.claim_lease(m, "r1", 600_000)
        self.done: list[tuple[object, ...]] = []

    def order_at(self, index: int) -> tuple[str, str, str, str] | None:
        return self.model.orders[index % len(self.model.orders)] if self.model.orders else None

    def apply(self, op: tuple[object, ...]) -> None:
        kind = op[0]
        if kind == "replay":
            if self.done:
                self.apply(self.done[int(op[1]) % len(self.done)])  # type: ignore[call-overload]
            return
        getattr(self, f"do_{kind}")(*op[1:])
        self.done.append(op)

    def do_create(self, market: str, key: str, outcome: str, side: str) -> None:
        if market in self.model.settled:
            return  # a settled window takes no orders; covered by unit tests
        intent = Intent(key, market, outcome, side, Decimal("0.5"), Decimal("7"))  # type: ignore[arg-type]
        lease = self.leases[market]
        assert lease is not None
        coid, result = self.store.create_order("s", intent, self.windows[market], lease)
        if result.outcome == "created":
            self.model.orders.append((coid, market, outcome, side))
        else:
            assert result.outcome == "exists"
            assert any(o[0] == coid for o in self.model.orders)

    def do_ack(self, index: int, status: str) -> None:
        order = self.order_at(index)
        if order:
            self.store.ack_order(order[0], order[1], status)

    def do_fill(self, index: int, fill_no: int, price: Decimal, size: Decimal) -> None:
        order = self.order_at(index)
        if not order:
            return
        coid, market, outcome, side = order
        fill_id = f"{coid}-f{fill_no}"
        result = self.store.apply_fill(
            Fill(fill_id, coid, market, outcome, side, price, size)  # type: ignore[arg-type]
        )
        if fill_id in self.model.fills:
            assert result.outcome == "duplicate"
        else:
            assert result.outcome == "applied"
            self.model.fills[fill_id] = Fill(fill_id, coid, market, outcome, side, price, size)  # type: ignore[arg-type]

    def do_cancel(self, index: int, reason: str) -> None:
        order = self.order_at(index)
        if order:
            self.store.cancel_order(order[0], order[1], reason)

    def do_settle(self, market: str, winner: str) -> None:
        result = self.store.settle_window(market, winner)
        if market in self.model.settled:
            assert result.outcome == "already"
            return
        assert Decimal(result.detail) == self.settled_pnl(market, winner)
        self.model.settled[market] = (winner, self.settled_pnl(market, winner))

    def settled_pnl(self, market: str, winner: str) -> Decimal:
        """Cash plus one per winning share (signed), over every fill applied so far."""
        up, down, cash, _ = self.expected(market)
        return cash + (up if winner == "Up" else down)

    def expected(self, market: str) -> tuple[Decimal, Decimal, Decimal, int]:
        up = down = cash = Decimal(0)
        count = 0
        for f in self.model.fills.values():
            if f.market != market:
                continue
            signed = f.size if f.side == "BUY" else -f.size
            up += signed if f.outcome == "Up" else 0
            down += signed if f.outcome == "Down" else 0
            cash -= signed * f.price
            count += 1
        return up, down, cash, count

    def check(self) -> None:
        for market in MARKETS:
            pos = self.store.position(market)
            assert (pos.up_shares, pos.down_shares, pos.cash, pos.fill_count) == self.expected(
                market
            )
            if market in self.model.settled:  # fills after settlement re-price it
                winner = self.model.settled[market][0]
                assert pos.settled and pos.realized_pnl == self.settled_pnl(market, winner)
        filled_by_order: dict[str, Decimal] = defaultdict(Decimal)
        for f in self.model.fills.values():
            filled_by_order[f.client_order_id] += f.size
        pending = {o.client_order_id for o in self.store.pending_orders()}
        for coid, *_ in self.model.orders:
            order = self.store.order(coid)
            assert order is not None
            assert order.filled == filled_by_order[coid]
            assert (coid in pending) == (not order.status.terminal)
            if order.filled >= order.size:
                assert order.status in (
                    OrderStatus.FILLED,
                    OrderStatus.CANCELLED,
                    OrderStatus.EXPIRED,
                    OrderStatus.REJECTED,
                )


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(operation, min_size=1, max_size=40))
def test_positions_equal_sum_of_unique_fills(
    real_redis: redis.Redis, ops: list[tuple[object, ...]]
) -> None:
    real_redis.flushdb()
    runner = Runner(Store(real_redis, "prop"))
    for op in ops:
        runner.apply(op)
    runner.check()
