"""The wire format between a runner and its strategy host: versioned JSON frames, no pickle.

Every message is one frame: a 4-byte big-endian length, then the body. The
two directions differ on purpose:

- runner -> host (`request_frame`): `marshal` of plain data (dicts, lists,
  tuples, str, bytes, numbers). It is the fastest codec the standard library
  has, and the host trusts its runner.
- host -> runner (`reply_frame` / `load_reply`): UTF-8 JSON. The host is
  untrusted: JSON decoding builds only dicts, lists, strings, numbers,
  booleans and None, so reading a reply can never run code in the runner
  (never pickle, never marshal this way); every reply is then checked field
  by field (`decode_decisions`, `decode_params`) before anything is built.

Both ends run the same interpreter (the host is `sys.executable`), so the
marshal format matches; `WIRE_VERSION` is checked in the host's hello.

Views cross as positional tuples (`encode_market`; the host's
`MarketDecoder` rebuilds them, reusing what did not change since the last
tick): the markets are encoded once per tick and shared by every strategy's
call. Decimals cross as strings, so no precision is lost.

This module is imported by both sides, so it stays lean: json, decimal and
the public strategy types.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, TypeVar

from state_store.models import Intent, Order, OrderStatus, Position
from state_store.param_spec import Param
from state_store.view import BookTop, MarketView, Remember

WIRE_VERSION = 1
MAX_FRAME = 32 * 1024 * 1024  # bytes; a longer frame is a protocol fault
HEADER = 4
MAX_KEY = 200  # characters of an intent key, market id or memory key/value
MAX_DECISIONS = 10_000

Json = Any
_T = TypeVar("_T")
MARSHAL_VERSION = 4


class CodecError(ValueError):
    """A frame or a field that does not follow the wire format."""


PROGRESS_BYTES = 8  # shared page: request id (4 bytes) + 1-based index of the running call (4)


def progress_value(request_id: int, index: int) -> bytes:
    return (request_id % 2**32).to_bytes(4, "big") + index.to_bytes(4, "big")


def read_progress(board: bytes) -> tuple[int, int]:
    """(request id, 1-based index of the call running; 0 = none yet)."""
    return int.from_bytes(board[:4], "big"), int.from_bytes(board[4:8], "big")


def request_frame(message: Mapping[str, Json]) -> bytes:
    """Runner -> host: marshal (fast; only plain data). The host trusts its runner."""
    body = marshal.dumps(dict(message), MARSHAL_VERSION)
    return len(body).to_bytes(HEADER, "big") + body


def load_request(body: bytes) -> dict[str, Json]:
    message = marshal.loads(body)
    if not isinstance(message, dict):
        raise CodecError("a request is not a dict")
    return message


def reply_frame(message: Mapping[str, Json]) -> bytes:
    """Host -> runner: JSON, which the runner can read without running anything."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    return len(body).to_bytes(HEADER, "big") + body


def load_reply(data: bytes) -> dict[str, Json]:
    try:
        message = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"not a JSON frame: {exc}"[:200]) from None
    if not isinstance(message, dict):
        raise CodecError(f"a frame holds {type(message).__name__}, not an object")
    return message


def frame_length(header: bytes) -> int:
    length = int.from_bytes(header, "big")
    if length > MAX_FRAME:
        raise CodecError(f"frame of {length} bytes is over the {MAX_FRAME} limit")
    return length


# -- views (runner -> host) ----------------------------------------------------
# Tuples, so the host can compare this tick's parts with the last tick's in C.


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


def encode_market(m: MarketView) -> tuple[Json, ...]:
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
        ),
        _dec(m.reference_price),
        encode_book(m.up),
        encode_book(m.down),
        encode_position(m.position),
        tuple(encode_order(o) for o in m.open_orders),
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
        self._last: dict[str, tuple[tuple[Json, ...], dict[str, object]]] = {}
        self._decimals: dict[str, Decimal] = {}

    def decode(self, encoded: Iterable[tuple[Json, ...]], now: float) -> tuple[MarketView, ...]:
        last, self._last = self._last, {}
        if len(self._decimals) > 50_000:
            self._decimals.clear()
        new = object.__new__
        out = []
        for enc in encoded:
            key = enc[0][0]
            prev = last.get(key)
            fields = prev[1] if prev is not None and prev[0] == enc else self._fields(enc, prev)
            self._last[key] = (enc, fields)
            view = new(MarketView)
            attrs = view.__dict__
            attrs.update(fields)
            attrs["now"] = now
            out.append(view)
        return tuple(out)

    def _fields(
        self, enc: tuple[Json, ...], prev: tuple[tuple[Json, ...], dict[str, object]] | None
    ) -> dict[str, object]:
        """The view's fields (but `now`), rebuilding only the parts whose encoding changed."""
        static, ref, up, down, position, orders = enc
        old_enc, old = prev if prev is not None else ((None,) * 6, {})
        d = self._d
        fields = dict(old) if old_enc[0] == static else {}
        if not fields:
            names = ("market", "asset", "interval", "start_ts", "end_ts")
            fields.update(zip(names, static[:5], strict=True))
            fields["start_price"] = d(static[5])
            fields["tick_size"] = d(static[6])
            fields["min_order_size"] = d(static[7])
        fields["reference_price"] = d(ref)
        for name, at, value, build in (
            ("up", 2, up, self._book),
            ("down", 3, down, self._book),
            ("position", 4, position, self._position),
            ("open_orders", 5, orders, self._orders),
        ):
            if name not in fields or old_enc[at] != value:
                fields[name] = build(value)
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


# -- params (both ways: defaults host -> runner, merged runner -> host) --------


def encode_value(value: object) -> Json:
    """A PARAMS value as JSON: scalars as they are, Decimal/tuple/frozenset/mapping tagged."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"$float": repr(value)}
        return value
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, Param):  # a default with its limits (state_store.param_spec)
        return {"$param": [encode_value(value.default), value.min, value.max]}
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v) for v in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [encode_value(v) for v in value]}
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {"$map": {k: encode_value(v) for k, v in value.items()}}
    raise CodecError(f"a {type(value).__name__} cannot cross to the strategy host")


def decode_value(data: Json, depth: int = 0) -> object:
    if depth > 32:
        raise CodecError("a parameter value nested too deeply")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if not isinstance(data, dict) or len(data) != 1:
        raise CodecError(f"not a parameter value: {type(data).__name__}")
    ((tag, inner),) = data.items()
    if tag == "$dec" and isinstance(inner, str):
        return _decimal(inner)
    if tag == "$float" and inner in ("nan", "inf", "-inf"):
        return float(inner)
    if tag == "$param" and isinstance(inner, list) and len(inner) == 3:
        return _param(inner)
    if tag in ("$tuple", "$frozenset") and isinstance(inner, list):
        items = [decode_value(v, depth + 1) for v in inner]
        return tuple(items) if tag == "$tuple" else frozenset(items)
    if tag == "$map" and isinstance(inner, dict):
        return MappingProxyType({str(k): decode_value(v, depth + 1) for k, v in inner.items()})
    raise CodecError(f"unknown parameter tag {tag!r}")


def _param(inner: list[Json]) -> Param:
    default, low, high = inner
    limits = [v for v in (low, high) if v is not None]
    if not isinstance(default, bool | int | float | str) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in limits
    ):
        raise CodecError("a Param with a default or limits of the wrong type")
    try:
        return Param(default, low, high)
    except ValueError as exc:
        raise CodecError(f"a Param that cannot be: {exc}") from None


def encode_params(params: Mapping[str, object]) -> dict[str, Json]:
    return {str(k): encode_value(v) for k, v in params.items()}


def decode_params(data: Json) -> dict[str, object]:
    if not isinstance(data, dict):
        raise CodecError("params are not an object")
    return {_text(k, "param name"): decode_value(v) for k, v in data.items()}


# -- decisions (host -> runner; untrusted) --------------------------------------


def encode_decisions(decisions: object) -> list[Json]:
    """decide's result as wire data; ValueError when it is not a list of Intent/Remember."""
    if not isinstance(decisions, list | tuple):
        raise ValueError(f"decide returned {type(decisions).__name__}, not a list")
    out: list[Json] = []
    for item in decisions:
        if isinstance(item, Intent):
            for name, value in (("price", item.price), ("size", item.size)):
                if not isinstance(value, Decimal):  # the runner sees only the string
                    kind = type(value).__name__
                    raise ValueError(
                        f"intent {item.key!r}: {name} {value!r} is a {kind}, not a Decimal"
                    )
            out.append(
                [
                    "I",
                    item.key,
                    item.market,
                    item.outcome,
                    item.side,
                    str(item.price),
                    str(item.size),
                    item.order_type,
                ]
            )
        elif isinstance(item, Remember):
            out.append(["R", {str(k): str(v) for k, v in item.values.items()}])
        else:
            raise ValueError(f"decide returned a {type(item).__name__}, not an Intent or Remember")
    return out


def decode_decisions(data: Json) -> list[Intent | Remember]:
    """Rebuild decisions from a host's reply, checking every field's type and size."""
    if not isinstance(data, list) or len(data) > MAX_DECISIONS:
        raise CodecError("decisions are not a list (or too many)")
    out: list[Intent | Remember] = []
    for item in data:
        if isinstance(item, list) and len(item) == 8 and item[0] == "I":
            key, market, outcome, side, price, size, order_type = (
                _text(v, "intent field") for v in item[1:]
            )
            out.append(
                Intent(key, market, outcome, side, _decimal(price), _decimal(size), order_type)  # type: ignore[arg-type]
            )
        elif isinstance(item, list) and len(item) == 2 and item[0] == "R":
            out.append(Remember(decode_memory(item[1])))
        else:
            raise CodecError("a decision is neither an intent nor a remember")
    return out


def decode_memory(data: Json) -> dict[str, str]:
    if not isinstance(data, dict):
        raise CodecError("memory is not an object")
    return {_text(k, "memory key"): _text(v, "memory value", 10_000) for k, v in data.items()}


def _text(value: Json, what: str, limit: int = MAX_KEY) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise CodecError(f"{what} is not a string of at most {limit} characters")
    return value


def _decimal(text: str) -> Decimal:
    if len(text) > 64:
        raise CodecError("a decimal of more than 64 characters")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CodecError(f"not a decimal: {text[:20]!r}") from None


def strings(data: Json, what: str) -> tuple[str, ...]:
    if not isinstance(data, list) or not all(isinstance(s, str) for s in data):
        raise CodecError(f"{what} is not a list of strings")
    return tuple(data)


def as_sequence(value: object) -> Sequence[Json]:
    if not isinstance(value, list):
        raise CodecError(f"expected a list, got {type(value).__name__}")
    return value
