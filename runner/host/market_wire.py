"""Market views across the wire (runner -> host), as tuples, sending only what changed.

Runner side: `encode_market` turns a `MarketView` into positional tuples
(Decimals as text, so no precision is lost). A busy bot's static fields,
positions, orders and most books do not change from one tick to the next, so
`delta_markets` sends a host that decoded the previous frame only the parts
whose encoding changed: an unchanged market crosses as its id, a changed one
with `SAME` for each part the host already has. A host that started since (a
restart, a candidate, an adopted one) gets full encodings. (Comparing the
encoded text costs less than marshalling and unmarshalling it; comparing the
views' objects instead of encoding them was measured to cost as much as
encoding them.)

Host side: `MarketDecoder` rebuilds the views, reusing last frame's objects
for every part that did not change, and refuses (`OutOfSync`) a delta that
does not refer to the frame it decoded last; the runner then sends a full one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from decimal import Decimal
from typing import TypeVar

from runner.host.codec import CodecError, Json
from state_store.models import Order, OrderStatus, Position
from state_store.view import BookTop, MarketView

_T = TypeVar("_T")
SAME = ...  # a part as the previous frame had it (marshal carries Ellipsis)
Encoded = tuple[Json, ...]  # (static, reference price, up, down, position, orders, stale)


class OutOfSync(CodecError):
    """A delta frame the host cannot apply: it did not decode the frame the delta refers to."""


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def encode_book(t: BookTop) -> tuple[Json, ...]:
    bid, ask = t.best_bid, t.best_ask
    return (
        None if bid is None else str(bid),
        None if ask is None else str(ask),
        str(t.bid_size),
        str(t.ask_size),
    )


def encode_position(p: Position) -> tuple[Json, ...]:
    return (
        p.market,
        str(p.up_shares),
        str(p.down_shares),
        str(p.cash),
        str(p.buy_notional),
        str(p.sell_notional),
        p.fill_count,
        p.settled,
        str(p.payout),
        str(p.realized_pnl),
        str(p.fees),
    )


def encode_order(o: Order) -> tuple[Json, ...]:
    return (
        o.client_order_id,
        o.market,
        o.strategy,
        o.intent_key,
        o.outcome,
        o.token_id,
        o.side,
        str(o.price),
        str(o.size),
        o.order_type,
        o.status.value,
        str(o.filled),
        o.venue_order_id,
        o.error,
        o.replica,
        o.fence,
        o.created_at,
        o.updated_at,
    )


def _encode_orders(orders: tuple[Order, ...]) -> Encoded:
    return tuple(encode_order(o) for o in orders)


def encode_market(m: MarketView) -> Encoded:
    """A market view without its `now` (the tick's, sent once)."""
    return (
        (
            m.market,
            m.asset,
            m.interval,
            m.start_ts,
            m.end_ts,
            _dec(m.start_price),
            str(m.tick_size),
            str(m.min_order_size),
            str(m.fee_rate),
            str(m.fee_exponent),
            m.neg_risk,
        ),
        _dec(m.reference_price),
        encode_book(m.up),
        encode_book(m.down),
        encode_position(m.position),
        _encode_orders(m.open_orders),
        m.stale,
    )


_BOOK_FIELDS = tuple(f.name for f in fields(BookTop))
_POSITION_FIELDS = tuple(f.name for f in fields(Position))
_ORDER_FIELDS = tuple(f.name for f in fields(Order))


def _build(cls: type[_T], names: tuple[str, ...], values: Iterable[object]) -> _T:
    """A frozen dataclass instance without running its __init__ (5x faster; no __post_init__
    and no slots in these types: test_codec round-trips each one through ==)."""
    obj = object.__new__(cls)
    obj.__dict__.update(zip(names, values, strict=True))
    return obj


def delta_markets(markets: Sequence[Encoded], sent: Mapping[str, Encoded]) -> list[Json]:
    """What to send a host that decoded `sent` (market -> encoding) last: an unchanged
    market as its id, a changed one with `SAME` for each part equal to what it was sent
    (the static part as the id), a new market in full. Encodings compare as text, so the
    host's views are exactly what a full frame would give."""
    out: list[Json] = []
    for enc in markets:
        key = enc[0][0]
        prev = sent.get(key)
        if prev is None:
            out.append(enc)
        elif prev == enc:
            out.append(key)
        else:
            head = key if enc[0] == prev[0] else enc[0]
            parts = zip(enc[1:], prev[1:], strict=True)
            out.append((head, *(SAME if a == b else a for a, b in parts)))
    return out


def _applied(entry: Json, last: Mapping[str, tuple[Encoded, dict[str, object]]]) -> Encoded:
    """A delta entry (see `delta_markets`) completed from the last frame's encodings."""
    if isinstance(entry, str) or isinstance(entry[0], str):
        key = entry if isinstance(entry, str) else entry[0]
        prev = last.get(key)
        if prev is None:
            raise OutOfSync(f"a delta for market {key[:80]!r}, which the last frame did not hold")
        if isinstance(entry, str):
            return prev[0]
        old = prev[0]
        return (old[0], *(o if p is SAME else p for p, o in zip(entry[1:], old[1:], strict=True)))
    if any(p is SAME for p in entry):  # a new static part over a market the host has
        prev = last.get(entry[0][0])
        if prev is None:
            raise OutOfSync(f"a delta for market {entry[0][0][:80]!r} it did not hold")
        return tuple(o if p is SAME else p for p, o in zip(entry, prev[0], strict=True))
    return tuple(entry)


class MarketDecoder:
    """Host side: market views from their encodings, reusing what did not change since the
    last tick.

    A busy bot's positions, orders and most books are the same from one tick to
    the next; rebuilding them is most of the cost of crossing the process
    boundary. A market whose whole encoding is unchanged costs one tuple
    comparison and one dict copy (its view differs only in `now`).
    """

    def __init__(self) -> None:
        # market -> (its encoding, the view's fields without `now`)
        self._last: dict[str, tuple[Encoded, dict[str, object]]] = {}
        self._decimals: dict[str, Decimal] = {}
        self.frame: int | None = None  # the id of the frame decoded last

    def decode(
        self, entries: Iterable[Json], now: float, frame: int, base: int | None = None
    ) -> tuple[MarketView, ...]:
        """The views of frame `frame`; `base` is the frame a delta refers to (None: full
        encodings only). OutOfSync when that is not the frame decoded last."""
        if base is not None and base != self.frame:
            decoded, self.frame = self.frame, None
            raise OutOfSync(f"a delta on frame {base}, but the host decoded {decoded} last")
        last, current = self._last, {}
        if len(self._decimals) > 50_000:
            self._decimals.clear()
        new = object.__new__
        out = []
        for entry in entries:
            if base is not None and entry.__class__ is str and entry in last:
                key, (enc, fields) = entry, last[entry]  # unchanged since the last frame
            else:
                enc = entry if base is None else _applied(entry, last)
                key = enc[0][0]
                prev = last.get(key)
                same = prev is not None and prev[0] == enc
                fields = prev[1] if same and prev is not None else self._fields(enc, prev)
            current[key] = (enc, fields)
            view = new(MarketView)
            attrs = view.__dict__
            attrs.update(fields)
            attrs["now"] = now
            out.append(view)
        self._last, self.frame = current, frame
        return tuple(out)

    def _fields(
        self, enc: Encoded, prev: tuple[Encoded, dict[str, object]] | None
    ) -> dict[str, object]:
        """The view's fields (but `now`), rebuilding only the parts whose encoding changed."""
        static, ref, up, down, position, orders, stale = enc
        old_enc, old = prev if prev is not None else ((None,) * 7, {})
        d = self._d
        fields = dict(old) if old_enc[0] == static else {}
        if not fields:
            names = ("market", "asset", "interval", "start_ts", "end_ts")
            fields.update(zip(names, static[:5], strict=True))
            fields["start_price"] = d(static[5])
            fields["tick_size"] = d(static[6])
            fields["min_order_size"] = d(static[7])
            fields["fee_rate"] = d(static[8])
            fields["fee_exponent"] = d(static[9])
            fields["neg_risk"] = static[10]
        fields["reference_price"] = d(ref)
        for name, at, value, build in (
            ("up", 2, up, self._book),
            ("down", 3, down, self._book),
            ("position", 4, position, self._position),
            ("open_orders", 5, orders, self._orders),
        ):
            if name not in fields or old_enc[at] != value:
                fields[name] = build(value)
        fields["stale"] = stale is True
        return fields

    def _d(self, text: str | None) -> Decimal | None:
        if text is None:
            return None
        value = self._decimals.get(text)
        if value is None:
            value = self._decimals[text] = Decimal(text)
        return value

    def _book(self, a: Json) -> BookTop:
        d = self._d
        return _build(BookTop, _BOOK_FIELDS, (d(a[0]), d(a[1]), d(a[2]), d(a[3])))

    def _position(self, a: Json) -> Position:
        d = self._d
        return _build(
            Position,
            _POSITION_FIELDS,
            (
                a[0],
                d(a[1]),
                d(a[2]),
                d(a[3]),
                d(a[4]),
                d(a[5]),
                a[6],
                a[7],
                d(a[8]),
                d(a[9]),
                d(a[10]),
            ),
        )

    def _orders(self, a: Json) -> tuple[Order, ...]:
        d = self._d
        return tuple(
            _build(
                Order,
                _ORDER_FIELDS,
                (*o[:7], d(o[7]), d(o[8]), o[9], OrderStatus(o[10]), d(o[11]), *o[12:]),
            )
            for o in a
        )
