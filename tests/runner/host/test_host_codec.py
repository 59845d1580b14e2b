"""The wire format: views round-trip exactly; whatever a host sends is checked, never executed."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest

from runner.host import codec
from runner.host.bench import sample_markets
from runner.host.market_wire import (
    SAME,
    MarketDecoder,
    OutOfSync,
    delta_markets,
    encode_market,
)
from state_store.models import Intent
from state_store.view import BookTop, MarketView, Remember


def over_the_wire(markets: object) -> list[Any]:
    wire: list[Any] = codec.load_request(codec.request_frame({"m": markets})[codec.HEADER :])["m"]
    return wire


def test_market_views_round_trip_exactly() -> None:
    markets = sample_markets(5, orders=2)
    decoder = MarketDecoder()
    encoded = [encode_market(m) for m in markets]
    wire = over_the_wire(encoded)
    assert decoder.decode(wire, markets[0].now, 1) == markets
    # the next tick: unchanged parts are reused, a changed book is rebuilt
    later = sample_markets(5, now=markets[0].now + 1, orders=2)
    again = decoder.decode([encode_market(m) for m in later], later[0].now, 2)
    assert again == later
    assert again[0].position is decoder.decode(wire, later[0].now, 3)[0].position


def test_window_terms_cross_the_wire() -> None:
    terms: dict[str, Any] = {
        "fee_rate": Decimal("0.072"),
        "fee_exponent": Decimal(2),
        "neg_risk": True,
    }
    markets = tuple(dataclasses.replace(m, **terms) for m in sample_markets(2))
    decoded = MarketDecoder().decode(over_the_wire([encode_market(m) for m in markets]),
                                     markets[0].now, 1)  # fmt: skip
    assert decoded == markets and all(m.neg_risk and m.fee_rate == Decimal("0.072")
                                      for m in decoded)  # fmt: skip


def ticks_of_a_busy_bot() -> list[tuple[MarketView, ...]]:
    """Seven ticks of 4 markets: nothing changes, a book moves, a fill (position and order),
    a market ends and another opens, the tick size changes, the reference price moves, a
    book goes stale."""
    first = sample_markets(4, orders=2)

    def later(views: tuple[MarketView, ...], **changes: Any) -> tuple[MarketView, ...]:
        return tuple(dataclasses.replace(m, now=m.now + 1, **changes) for m in views)

    t2 = later(first)
    t3 = (later(t2[:1], up=BookTop(Decimal("0.45"), Decimal("0.47"), Decimal(3), Decimal(4)))
          + later(t2[1:]))  # fmt: skip
    filled = dataclasses.replace(t3[1].position, up_shares=Decimal(15), fill_count=2)
    t4 = (later(t3[:1]) + later(t3[1:2], position=filled, open_orders=t3[1].open_orders[:1])
          + later(t3[2:]))  # fmt: skip
    t5 = later(t4[1:]) + sample_markets(6, now=t4[0].now + 1)[5:]
    t6 = later(t5[:2], tick_size=Decimal("0.001")) + later(t5[2:], reference_price=Decimal(1))
    t7 = later(t6[:1], stale=True) + later(t6[1:])  # a streamed book went quiet
    return [first, t2, t3, t4, t5, t6, t7]


def test_deltas_carry_only_what_changed_and_round_trip_exactly() -> None:
    decoder = MarketDecoder()
    sent: dict[str, tuple[object, ...]] = {}
    frames = []
    for frame, views in enumerate(ticks_of_a_busy_bot(), 1):
        encoded = [encode_market(m) for m in views]
        delta = delta_markets(encoded, sent) if sent else encoded
        base = frame - 1 if sent else None
        assert decoder.decode(over_the_wire(delta), views[0].now, frame, base) == views
        sent = {e[0][0]: e for e in encoded}
        frames.append(delta)
    unchanged, book_moved, filled = frames[1], frames[2], frames[3]
    assert all(isinstance(entry, str) for entry in unchanged)  # each market as its id
    assert book_moved[0][2] == encode_market(ticks_of_a_busy_bot()[2][0])[2]
    assert [p is SAME for p in book_moved[0]] == [False, True, False, True, True, True, True]
    assert [p is SAME for p in filled[1][1:]] == [True, True, True, False, False, True]
    assert isinstance(frames[4][-1][0], tuple)  # a new market: in full
    assert isinstance(frames[5][0][0], tuple) and frames[5][0][1] is SAME  # new static part
    assert [p is SAME for p in frames[6][0]] == [False, True, True, True, True, True, False]
    assert all(isinstance(entry, str) for entry in frames[6][1:])


def test_a_delta_on_another_frame_is_refused_then_a_full_one_works() -> None:
    views = sample_markets(3)
    encoded = [encode_market(m) for m in views]
    fresh = MarketDecoder()  # a host started since: it holds no frame
    with pytest.raises(OutOfSync):
        fresh.decode([e[0][0] for e in encoded], views[0].now, 2, base=1)
    assert fresh.decode(encoded, views[0].now, 3) == views
    with pytest.raises(OutOfSync):  # a delta on a frame it did not decode last
        fresh.decode([e[0][0] for e in encoded], views[0].now, 4, base=2)
    with pytest.raises(OutOfSync):  # nor after a refusal, until a full frame
        fresh.decode([e[0][0] for e in encoded], views[0].now, 5, base=3)
    assert fresh.decode(encoded, views[0].now, 6) == views
    assert fresh.decode([e[0][0] for e in encoded], views[0].now, 7, base=6) == views


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
