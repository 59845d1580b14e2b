"""The wire format: views round-trip exactly; whatever a host sends is checked, never executed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from runner.host import codec
from runner.host.bench import sample_markets
from state_store.models import Intent
from state_store.view import Remember


def test_market_views_round_trip_exactly() -> None:
    markets = sample_markets(5, orders=2)
    decoder = codec.MarketDecoder()
    encoded = [codec.encode_market(m) for m in markets]
    wire = codec.load_request(codec.request_frame({"m": encoded})[codec.HEADER :])["m"]
    assert decoder.decode(wire, markets[0].now) == markets
    # the next tick: unchanged parts are reused, a changed book is rebuilt
    later = sample_markets(5, now=markets[0].now + 1, orders=2)
    again = decoder.decode([codec.encode_market(m) for m in later], later[0].now)
    assert again == later
    assert again[0].position is decoder.decode(wire, later[0].now)[0].position


def test_params_round_trip_with_their_types() -> None:
    params = {"a": Decimal("0.25"), "b": (1, "x", 2.5), "c": frozenset({1}), "d": None, "e": True}
    back = codec.decode_params(json.loads(json.dumps(codec.encode_params(params))))
    assert back == params and type(back["b"]) is tuple and type(back["a"]) is Decimal
    with pytest.raises(codec.CodecError):
        codec.encode_params({"x": object()})


def test_decisions_round_trip() -> None:
    intent = Intent("k", "m", "Up", "BUY", Decimal("0.41"), Decimal(5), "FAK")
    wire = json.loads(json.dumps(codec.encode_decisions([intent, Remember({"n": "1"})])))
    assert codec.decode_decisions(wire) == [intent, Remember({"n": "1"})]


@pytest.mark.parametrize(
    "reply",
    [
        {"not": "a list"},
        [["I", "k", "m", "Up", "BUY", "0.4", "5"]],  # a field short
        [["I", "k", "m", "Up", "BUY", "nan-ish", "5", "GTC"]],
        [["I", "k", "m", "Up", "BUY", "1" * 100, "5", "GTC"]],
        [["I", "k" * 1000, "m", "Up", "BUY", "0.4", "5", "GTC"]],
        [["I", 1, "m", "Up", "BUY", "0.4", "5", "GTC"]],
        [["R", {"k": 1}]],
        [["X"]],
        [{"__class__": "os.system"}],
    ],
)
def test_hostile_decisions_are_refused(reply: object) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode_decisions(reply)


@pytest.mark.parametrize(
    "body", [b"\x80\x04\x95pickle", b"[1, 2]", b"{" * 100_000, b'{"a": NaN', b"\xff\xfe"]
)
def test_replies_that_are_not_json_objects_are_refused(body: bytes) -> None:
    with pytest.raises(codec.CodecError):
        codec.load_reply(body)


def test_oversized_frames_are_refused() -> None:
    with pytest.raises(codec.CodecError):
        codec.frame_length((codec.MAX_FRAME + 1).to_bytes(codec.HEADER, "big"))
