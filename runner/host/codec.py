"""The wire format between a runner and its strategy host: versioned JSON frames, no pickle.

Every message is one JSON object in one frame (a 4-byte big-endian length,
then UTF-8 JSON). JSON decoding builds only dicts, lists, strings, numbers,
booleans and None, so reading what the (untrusted) host sends can never run
code in the runner; every reply is then checked field by field
(`decode_decisions`, `decode_params`) before anything is built from it.

Views cross as positional arrays (`encode_market` / `decode_market`): the
markets are encoded once per tick and shared by every strategy's call.
Decimals cross as strings, so no precision is lost.

This module is imported by both sides, so it stays lean: json, decimal and
the public strategy types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from state_store.models import Intent, Order, OrderStatus, Position
from state_store.view import BookTop, MarketView, Remember

WIRE_VERSION = 1
MAX_FRAME = 32 * 1024 * 1024  # bytes; a longer frame is a protocol fault
HEADER = 4
MAX_KEY = 200  # characters of an intent key, market id or memory key/value
MAX_DECISIONS = 10_000

Json = Any


class CodecError(ValueError):
    """A frame or a field that does not follow the wire format."""


def dumps(message: Mapping[str, Json]) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode()


def loads(data: bytes) -> dict[str, Json]:
    try:
        message = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"not a JSON frame: {exc}"[:200]) from None
    if not isinstance(message, dict):
        raise CodecError(f"a frame holds {type(message).__name__}, not an object")
    return message


def frame(message: Mapping[str, Json]) -> bytes:
    body = dumps(message)
    return len(body).to_bytes(HEADER, "big") + body


def frame_length(header: bytes) -> int:
    length = int.from_bytes(header, "big")
    if length > MAX_FRAME:
        raise CodecError(f"frame of {length} bytes is over the {MAX_FRAME} limit")
    return length


# -- views (runner -> host) ----------------------------------------------------


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def encode_book(top: BookTop) -> list[Json]:
    return [_dec(top.best_bid), _dec(top.best_ask), str(top.bid_size), str(top.ask_size)]


def encode_position(p: Position) -> list[Json]:
    return [
        p.market, str(p.up_shares), str(p.down_shares), str(p.cash), str(p.buy_notional),
        str(p.sell_notional), p.fill_count, p.settled, str(p.payout), str(p.realized_pnl),
    ]  # fmt: skip


def encode_order(o: Order) -> list[Json]:
    return [
        o.client_order_id, o.market, o.strategy, o.intent_key, o.outcome, o.token_id, o.side,
        str(o.price), str(o.size), o.order_type, o.status.value, str(o.filled), o.venue_order_id,
        o.error, o.replica, o.fence, o.created_at, o.updated_at,
    ]  # fmt: skip


def encode_market(m: MarketView) -> list[Json]:
    return [
        m.market, m.asset, m.interval, m.start_ts, m.end_ts, m.now, encode_book(m.up),
        encode_book(m.down), encode_position(m.position), [encode_order(o) for o in m.open_orders],
        _dec(m.start_price), _dec(m.reference_price), str(m.tick_size), str(m.min_order_size),
    ]  # fmt: skip


def decode_book(a: list[Json]) -> BookTop:
    return BookTop(_undec(a[0]), _undec(a[1]), Decimal(a[2]), Decimal(a[3]))


def decode_position(a: list[Json]) -> Position:
    D = Decimal
    return Position(a[0], D(a[1]), D(a[2]), D(a[3]), D(a[4]), D(a[5]), a[6], a[7], D(a[8]), D(a[9]))


def decode_order(a: list[Json]) -> Order:
    D = Decimal
    return Order(
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], D(a[7]), D(a[8]), a[9], OrderStatus(a[10]),
        D(a[11]), a[12], a[13], a[14], a[15], a[16], a[17],
    )  # fmt: skip


def decode_market(a: list[Json]) -> MarketView:
    return MarketView(
        a[0], a[1], a[2], a[3], a[4], a[5], decode_book(a[6]), decode_book(a[7]),
        decode_position(a[8]), tuple(decode_order(o) for o in a[9]), _undec(a[10]),
        _undec(a[11]), Decimal(a[12]), Decimal(a[13]),
    )  # fmt: skip


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
    (tag, inner), = data.items()  # fmt: skip
    if tag == "$dec" and isinstance(inner, str):
        return _decimal(inner)
    if tag == "$float" and inner in ("nan", "inf", "-inf"):
        return float(inner)
    if tag in ("$tuple", "$frozenset") and isinstance(inner, list):
        items = [decode_value(v, depth + 1) for v in inner]
        return tuple(items) if tag == "$tuple" else frozenset(items)  # type: ignore[arg-type]
    if tag == "$map" and isinstance(inner, dict):
        return MappingProxyType({str(k): decode_value(v, depth + 1) for k, v in inner.items()})
    raise CodecError(f"unknown parameter tag {tag!r}")


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
            out.append(
                ["I", item.key, item.market, item.outcome, item.side, str(item.price),
                 str(item.size), item.order_type]
            )  # fmt: skip
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
