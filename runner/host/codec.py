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

Views cross as positional tuples, only what changed since the previous frame
(`runner.host.market_wire`): the markets are encoded once per tick and
shared by every strategy's call. Decimals cross as strings, so no precision
is lost.

This module is imported by both sides, so it stays lean: json, decimal and
the public strategy types.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from state_store.models import Intent
from state_store.param_spec import Param
from state_store.view import Remember

WIRE_VERSION = 1
MAX_FRAME = 32 * 1024 * 1024  # bytes; a longer frame is a protocol fault
HEADER = 4
MAX_KEY = 200  # characters of an intent key, market id or memory key/value
MAX_DECISIONS = 10_000

Json = Any
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
