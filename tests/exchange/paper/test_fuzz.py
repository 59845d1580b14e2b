"""Whatever arrives, the venue answers 2xx or 4xx with `{"error": ...}`: never a 500."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange import ClobClient, OrderRequest, PaperSigner
from exchange.auth import DEFAULT_OWNER
from exchange.eip712 import Wallet, domain_for, paper_account, sign_unsigned, unsigned_from_body
from exchange.paper import ManualClock
from exchange.types import Outcome
from tests.exchange.conftest import WINDOW, TestClient
from tests.exchange.helpers import live_window

FUZZ = settings(
    derandomize=True,  # the same examples every run: a CI failure is reproducible
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
number_texts = st.sampled_from(
    [
        "0.5",
        "0.50",
        "0.505",
        "1",
        "0",
        "-0.5",
        "NaN",
        "Infinity",
        "1e999999",
        "5",
        "4.99",
        "",
        " 7 ",
        "٣",
    ]
)
ORDER_FIELDS = [
    "salt", "maker", "signer", "tokenId", "makerAmount", "takerAmount", "expiration",
    "side", "signatureType", "signature", "timestamp", "metadata", "builder", "taker",
]  # fmt: skip
PAPER_WALLET = Wallet.eoa(paper_account(DEFAULT_OWNER))


def resigned(body: dict[str, Any], order_type: str) -> dict[str, Any] | None:
    """The mutated order signed again, when its fields still make an order at all."""
    try:
        domain = domain_for(str(body["tokenId"]), False)
        unsigned = unsigned_from_body(body, order_type, domain)
        return sign_unsigned(PAPER_WALLET, unsigned).body
    except Exception:  # the mutation made it unsignable (wrong type, negative amount, ...)
        return None


def assert_no_crash(response: Any) -> str:
    """The answer's kind: "ok", or the start of its error message."""
    assert response.status_code < 500, response.text
    if response.status_code < 400:
        return "ok"
    payload = response.json()
    assert isinstance(payload, dict) and isinstance(payload.get("error"), str), payload
    return " ".join(payload["error"].split()[:2])


def test_signed_orders_never_crash(http: TestClient, venue: ClobClient, clock: ManualClock) -> None:
    live = [live_window(venue)]
    on_tick = st.integers(1, 99).map(lambda cents: Decimal(cents) / 100)
    any_price = st.decimals(min_value=Decimal("-1"), max_value=Decimal("2"), places=4)
    prices = st.one_of(on_tick, on_tick, on_tick, any_price)
    whole = st.integers(0, 300).map(Decimal)
    sizes = st.one_of(whole, whole, whole, st.decimals(min_value=0, max_value=10**6, places=3))
    mutations = st.tuples(st.sampled_from(ORDER_FIELDS), json_values | number_texts)
    signer = PaperSigner(DEFAULT_OWNER)
    seen: Counter[str] = Counter()

    @FUZZ
    @given(
        coid=st.text(max_size=10),
        token=st.sampled_from(["Up", "Down", "123", ""]),
        side=st.sampled_from(["BUY", "SELL"]),
        price=prices,
        size=sizes,
        order_type=st.sampled_from(["GTC", "GTD", "FOK", "FAK"]),
        expiration=st.sampled_from([None, None, None, None, 0, 1, 1_800_000_000]),
        mutation=st.none() | st.none() | mutations,
        resign=st.booleans(),
        jump=st.sampled_from([0] * 9 + [1, WINDOW]),
    )
    def check(
        coid: str,
        token: str,
        side: Any,
        price: Decimal,
        size: Decimal,
        order_type: Any,
        expiration: int | None,
        mutation: tuple[str, Any] | None,
        resign: bool,
        jump: int,
    ) -> None:
        if jump:  # time moves on: resting orders match, windows close and open
            clock.advance(jump)
            if jump == WINDOW:
                live[0] = live_window(venue)
        token_id = live[0].token(cast(Outcome, token)) if token in ("Up", "Down") else token
        if expiration is None:  # the right one for the order type
            expiration = int(venue.server_time()) + 30 if order_type == "GTD" else 0
        req = OrderRequest(coid, token_id, side, price, size, order_type, expiration)
        try:
            body = signer.sign(req).body
        except Exception:  # no order has these values (e.g. a negative price): nothing to post
            seen["unsignable"] += 1
            return
        if mutation is not None:
            body[mutation[0]] = mutation[1]
            if resign:
                body = resigned(body, order_type) or body
        payload = {"order": body, "owner": DEFAULT_OWNER, "orderType": order_type}
        seen[assert_no_crash(http.post("/order", json=payload))] += 1

    check()
    assert sum(seen.values()) >= 200
    # the fuzz reaches every layer: accepted orders, semantic checks, schema checks
    assert seen["ok"] > 0, seen
    assert any(kind.startswith("invalid price") for kind in seen), seen
    assert any(kind.startswith("Invalid payload") for kind in seen), seen


def test_arbitrary_json_never_crashes(http: TestClient) -> None:
    @FUZZ
    @given(
        route=st.sampled_from([("POST", "/order"), ("POST", "/books"), ("DELETE", "/order")]),
        body=json_values
        | st.fixed_dictionaries(
            {"order": json_values, "owner": json_values, "orderType": json_values}
        ),
    )
    def check(route: tuple[str, str], body: Any) -> None:
        assert_no_crash(http.request(route[0], route[1], json=body))

    check()


def test_arbitrary_bytes_and_queries_never_crash(http: TestClient) -> None:
    routes = [
        "/book", "/price", "/midpoint", "/markets", "/data/orders", "/data/trades",
        "/paper/reference", "/time", "/data/order/x", "/markets/x",
    ]  # fmt: skip
    names = st.sampled_from(
        ["token_id", "side", "next_cursor", "slug", "after", "asset", "id", "market"]
    )

    @FUZZ
    @given(
        raw=st.binary(max_size=200),
        path=st.sampled_from(routes),
        params=st.dictionaries(names, st.text(max_size=80), max_size=3),
        api_key=st.none()
        | st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=200),
    )
    def check(raw: bytes, path: str, params: dict[str, str], api_key: str | None) -> None:
        headers = {"content-type": "application/json"}
        if api_key is not None:
            headers["POLY_API_KEY"] = api_key
        assert_no_crash(http.post("/order", content=raw, headers=headers))
        assert_no_crash(http.get(path, params=params, headers=headers))

    check()


def test_valid_orders_are_accepted_once(http: TestClient, venue: ClobClient) -> None:
    """Well-formed orders: accepted (and a re-post is the same order) or refused for a reason."""
    window = live_window(venue)
    business = ("order couldn't", "no orders found", "not enough balance")

    @settings(max_examples=200, deadline=None)
    @given(
        coid=st.text(min_size=1, max_size=8),
        outcome=st.sampled_from(["Up", "Down"]),
        side=st.sampled_from(["BUY", "BUY", "SELL"]),
        cents=st.integers(1, 99),
        size=st.integers(5, 400),
        order_type=st.sampled_from(["GTC", "FOK", "FAK"]),
    )
    def check(coid: str, outcome: Any, side: Any, cents: int, size: int, order_type: Any) -> None:
        req = OrderRequest(
            coid, window.token(outcome), side, Decimal(cents) / 100, Decimal(size), order_type
        )
        first = http.post("/order", json=_payload(req))
        if first.status_code != 200:
            assert first.status_code == 400 and first.json()["error"].startswith(business)
            return
        again = http.post("/order", json=_payload(req))
        assert again.status_code == 200 and again.json()["orderID"] == first.json()["orderID"]
        stored = venue.get_order(first.json()["orderID"])
        assert stored is not None and 0 <= stored.size_matched <= stored.original_size

    check()


def _payload(req: OrderRequest) -> dict[str, Any]:
    signed = PaperSigner(DEFAULT_OWNER).sign(req)
    return {"order": signed.body, "owner": DEFAULT_OWNER, "orderType": req.order_type}
