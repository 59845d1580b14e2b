"""V2 order signing for the paper runner path, without importing polymarket-client.

Importing the SDK costs seconds (it builds ~350 pydantic models at import);
a paper runner that restarts would place no order for that long. So the
paper path rebuilds the same EOA order from the SDK's published rules (its
rounding table, its typed data, its body) and signs with eth-account; the
golden test (`tests/exchange/live/test_golden.py`) checks that every body,
signature and id it makes equals the SDK pipeline's, byte for byte. The live
path (`exchange.eip712`) uses the SDK itself. EOA only (signature type 0).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from exchange.types import OrderRequest, OrderType, Side

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

CHAIN_ID = 137
STANDARD_EXCHANGE = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE = "0xe2222d279d744050d28e00520010520000310F59"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
BYTES32_ZERO = "0x" + "0" * 64
_V2_RESERVED_BITS = ((1 << 64) - 1) << 40
#: tick -> (amount, price, size) decimals, as the SDK's `_ROUNDING_BY_TICK`
_ROUNDING: dict[Decimal, tuple[int, int, int]] = {
    Decimal("0.1"): (3, 1, 2),
    Decimal("0.01"): (4, 2, 2),
    Decimal("0.005"): (5, 3, 2),
    Decimal("0.0025"): (6, 4, 2),
    Decimal("0.001"): (5, 3, 2),
    Decimal("0.0001"): (6, 4, 2),
}
_ORDER_FIELDS = [
    {"name": "salt", "type": "uint256"},
    {"name": "maker", "type": "address"},
    {"name": "signer", "type": "address"},
    {"name": "tokenId", "type": "uint256"},
    {"name": "makerAmount", "type": "uint256"},
    {"name": "takerAmount", "type": "uint256"},
    {"name": "side", "type": "uint8"},
    {"name": "signatureType", "type": "uint8"},
    {"name": "timestamp", "type": "uint256"},
    {"name": "metadata", "type": "bytes32"},
    {"name": "builder", "type": "bytes32"},
]
_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return 0 if isinstance(exponent, str) else max(0, -exponent)


def _round(value: Decimal, decimals: int, rounding: str) -> Decimal:
    if _places(value) <= decimals:
        return value
    return value.quantize(Decimal(10) ** -decimals, rounding=rounding)


def _units(value: Decimal) -> int:
    return int((value * Decimal(10) ** 6).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def amounts(
    side: Side, price: Decimal, size: Decimal, order_type: OrderType, tick: Decimal
) -> tuple[int, int]:
    """(makerAmount, takerAmount): the SDK's limit (GTC/GTD) and market (FOK/FAK) rounding."""
    amount_dp, price_dp, size_dp = _ROUNDING[tick]
    if order_type in ("FOK", "FAK"):
        raw_price = _round(price, price_dp, ROUND_FLOOR)
        maker = _round(price * size if side == "BUY" else size, size_dp, ROUND_FLOOR)
        taker = maker / raw_price if side == "BUY" else maker * raw_price
        if _places(taker) > amount_dp:
            taker = _round(taker, amount_dp + 4, ROUND_CEILING)
            if _places(taker) > amount_dp:
                taker = _round(taker, amount_dp, ROUND_FLOOR)
        return _units(maker), _units(taker)
    shares = _round(size, size_dp, ROUND_FLOOR)
    notional = shares * price
    if _places(notional) > amount_dp:
        notional = _round(notional, amount_dp + 4, ROUND_CEILING)
        if _places(notional) > amount_dp:
            notional = _round(notional, amount_dp, ROUND_FLOOR)
    if side == "BUY":
        return _units(notional), _units(shares)
    return _units(shares), _units(notional)


def domain(token_id: str, neg_risk: bool = False) -> dict[str, Any]:
    v2 = (int(token_id) & _V2_RESERVED_BITS) == 0
    contract = EXCHANGE_V3 if v2 else NEG_RISK_EXCHANGE if neg_risk else STANDARD_EXCHANGE
    return {
        "name": "Polymarket CTF Exchange",
        "version": "3" if v2 else "2",
        "chainId": CHAIN_ID,
        "verifyingContract": contract,
    }


def sign_eoa(
    account: LocalAccount, req: OrderRequest, *, tick: Decimal, salt: int, timestamp: int
) -> tuple[str, dict[str, Any]]:
    """(order id, POST /order `order` object) of an EOA order, as the SDK makes it."""
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    maker_amount, taker_amount = amounts(req.side, req.price, req.size, req.order_type, tick)
    address = account.address
    message = {
        "salt": salt,
        "maker": address,
        "signer": address,
        "tokenId": int(req.token_id),
        "makerAmount": maker_amount,
        "takerAmount": taker_amount,
        "side": 0 if req.side == "BUY" else 1,
        "signatureType": 0,
        "timestamp": timestamp,
        "metadata": BYTES32_ZERO,
        "builder": BYTES32_ZERO,
    }
    typed = {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "Order": _ORDER_FIELDS},
        "primaryType": "Order",
        "domain": domain(req.token_id),
        "message": message,
    }
    signable = encode_typed_data(full_message=typed)
    raw = account.sign_message(signable).signature.hex()
    order_id = "0x" + bytes(_hash_eip191_message(signable)).hex()
    body = {
        "builder": BYTES32_ZERO,
        "expiration": str(req.expiration),
        "maker": address,
        "makerAmount": str(maker_amount),
        "metadata": BYTES32_ZERO,
        "salt": salt,
        "side": req.side,
        "signature": raw if raw.startswith("0x") else "0x" + raw,
        "signatureType": 0,
        "signer": address,
        "takerAmount": str(taker_amount),
        "timestamp": str(timestamp),
        "tokenId": req.token_id,
    }
    return order_id, body


def post_payload(
    body: dict[str, Any], owner: str, order_type: str, post_only: bool
) -> dict[str, Any]:
    """The POST /order body around an `order` object, keys as the SDK writes them."""
    payload: dict[str, Any] = {
        "deferExec": False,
        "order": body,
        "orderType": order_type,
        "owner": owner,
    }
    if post_only:
        payload["postOnly"] = True
    return payload
