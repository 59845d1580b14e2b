"""Slugs, records, signing and L2 signatures: the pure parts of the venue boundary."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal

import pytest

from exchange import Book, Level, PaperSigner, VenueOrder, parse_slug, window_slug
from exchange.auth import ApiCredentials, l2_headers, verify_l2
from exchange.eip712 import order_amounts, paper_account
from exchange.signing import canonical_decimal, salt_for, timestamp_for
from exchange.slugs import window_start
from tests.exchange.helpers import order


def test_slugs_roundtrip() -> None:
    slug = window_slug("btc", "5m", 1_700_000_100)
    assert slug == "btc-updown-5m-1700000100"
    parts = parse_slug(slug)
    assert parts is not None and (parts.asset, parts.interval, parts.start_ts) == (
        "btc",
        "5m",
        1_700_000_100,
    )
    for other in ("will-btc-hit-100k", "doge-updown-5m-1", "btc-updown-1h-1", "btc-updown-5m-x"):
        assert parse_slug(other) is None
    with pytest.raises(ValueError):
        window_slug("btc", "1h", 0)
    assert window_start(1_700_000_119.9, 20) == 1_700_000_100


def test_book_best_prices_ignore_level_order() -> None:
    book = Book(
        token_id="t",
        bids=(Level(Decimal("0.40"), Decimal(1)), Level(Decimal("0.45"), Decimal(1))),
        asks=(Level(Decimal("0.60"), Decimal(1)), Level(Decimal("0.55"), Decimal(1))),
        tick_size=Decimal("0.01"),
        min_order_size=Decimal(5),
        timestamp=0.0,
    )
    assert (book.best_bid, book.best_ask, book.mid) == (
        Decimal("0.45"),
        Decimal("0.55"),
        Decimal("0.50"),
    )
    empty = Book("t", (), (), Decimal("0.01"), Decimal(5), 0.0)
    assert empty.best_bid is None and empty.mid is None


def test_venue_order_remaining() -> None:
    vo = VenueOrder("o", "t", "m", "BUY", Decimal("0.5"), Decimal(10), Decimal(4), "live")
    assert vo.remaining == 6 and vo.is_open


def test_paper_signing_is_deterministic() -> None:
    signer = PaperSigner("owner-a")
    req = order("coid-1", "42", "BUY", "0.5", "10")
    first, again = signer.sign(req), signer.sign(req)
    assert first == again and first.body == again.body
    assert first.order_id.startswith("0x") and len(first.order_id) == 66
    assert first.body["salt"] == salt_for("coid-1") < 2**52
    assert first.body["timestamp"] == str(timestamp_for("coid-1"))
    assert first.body["signer"] == first.body["maker"] == paper_account("owner-a").address
    assert set(first.body).isdisjoint({"taker", "nonce", "feeRateBps", "price", "size"})
    assert (first.body["makerAmount"], first.body["takerAmount"]) == ("5000000", "10000000")
    # the same value spelled differently is the same order
    assert signer.sign(order("coid-1", "42", "BUY", "0.50", "10.00")).order_id == first.order_id
    # another client order id or another owner is another order
    assert signer.sign(order("coid-2", "42", "BUY", "0.5", "10")).order_id != first.order_id
    assert PaperSigner("owner-b").sign(req).order_id != first.order_id


def test_amounts_and_canonical_decimals() -> None:
    tick = Decimal("0.01")
    assert order_amounts("SELL", Decimal("0.37"), Decimal("12.5"), "GTC", tick) == (
        12_500_000,
        4_625_000,
    )
    # a market (FAK) BUY spends price*size cut to cents, for shares cut to 4 decimals
    assert order_amounts("BUY", Decimal("0.53"), Decimal("5.5"), "FAK", tick) == (
        2_910_000,
        5_490_500,
    )
    assert canonical_decimal(Decimal("100")) == "100"
    assert canonical_decimal(Decimal("0.500")) == "0.5"
    assert canonical_decimal(Decimal("-0")) == "0"


def test_l2_signature_matches_the_documented_recipe() -> None:
    secret = base64.urlsafe_b64encode(b"0123456789abcdef").decode()
    creds = ApiCredentials(api_key="k", secret=secret, passphrase="p", address="0xabc")
    headers = l2_headers(creds, 1_700_000_000, "POST", "/order", '{"a":1}')
    expected = base64.urlsafe_b64encode(
        hmac.new(b"0123456789abcdef", b'1700000000POST/order{"a":1}', hashlib.sha256).digest()
    ).decode()
    assert headers["POLY_SIGNATURE"] == expected
    assert headers["POLY_ADDRESS"] == "0xabc" and headers["POLY_PASSPHRASE"] == "p"
    assert verify_l2(creds, headers, "POST", "/order", '{"a":1}')
    assert not verify_l2(creds, headers, "POST", "/order", '{"a":2}')
    assert not verify_l2(creds, {**headers, "POLY_PASSPHRASE": "ü"}, "POST", "/order", '{"a":1}')
    assert not verify_l2(creds, {**headers, "POLY_SIGNATURE": "ü"}, "POST", "/order", '{"a":1}')
    hidden = ApiCredentials(api_key="k", secret="U0VDUkVU", passphrase="PASSPHRASE")
    assert "U0VDUkVU" not in repr(hidden) and "PASSPHRASE" not in repr(hidden)
