"""Request bodies of the paper venue, validated by pydantic (failures become 400s)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from exchange.eip712 import V1_ONLY_FIELDS
from exchange.paper.errors import ApiError

MAX_STR = 128
MAX_SIGNATURE = 4096  # a POLY_1271 signature carries a trailer of ~250 bytes
MAX_BATCH = 15
VERSION_MISMATCH = "order_version_mismatch"


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STR)


class OrderFields(_Body):
    """The signed V2 `order` object of POST /order, as polymarket-client sends it."""

    salt: int = Field(ge=0, lt=2**256)
    maker: str
    signer: str
    tokenId: str
    makerAmount: str
    takerAmount: str
    side: Literal["BUY", "SELL"]
    signatureType: int = Field(ge=0, le=3)
    timestamp: str
    metadata: str
    builder: str
    expiration: str = "0"
    signature: str = Field(max_length=MAX_SIGNATURE)


class PostOrderRequest(_Body):
    order: OrderFields
    owner: str
    orderType: Literal["GTC", "GTD", "FOK", "FAK"]
    deferExec: bool = False
    postOnly: bool = False


class CancelRequest(_Body):
    orderID: str


class BookRequest(_Body):
    token_id: str
    side: str | None = None


class PriceRequest(_Body):
    token_id: str
    side: Literal["BUY", "SELL"]


class HeartbeatRequest(_Body):
    heartbeat_id: str = ""


class FaultRequest(_Body):
    """POST /paper/faults: what to simulate from now on (venue seconds)."""

    engine_restart_s: float = Field(default=0, ge=0, le=3600)
    post_only_s: float = Field(default=0, ge=0, le=3600)
    cancel_only: bool = False
    insufficient_balance: bool = False


_ORDER = TypeAdapter(PostOrderRequest)
_BATCH = TypeAdapter(list[Any])
_IDS = TypeAdapter(list[str])


def is_v1_order(raw: Any) -> bool:
    """A V1 body: its `order` carries `taker`, `nonce` or `feeRateBps` (V2 dropped them)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("order"), dict):
        return False
    return bool(V1_ONLY_FIELDS & raw["order"].keys())


def parse_order(raw: Any, where: tuple[Any, ...] = ("body",)) -> PostOrderRequest:
    """A POST /order body; V1 bodies get `order_version_mismatch`, bad ones a 400."""
    if is_v1_order(raw):
        raise ApiError(400, VERSION_MISMATCH)
    order: PostOrderRequest = _validate(_ORDER, raw, where)
    return order


def parse_batch(raw: Any) -> list[PostOrderRequest]:
    items = _validate(_BATCH, raw, ("body",))
    if not items or len(items) > MAX_BATCH:
        raise ApiError(400, f"Invalid payload: between 1 and {MAX_BATCH} orders per request")
    return [parse_order(item, ("body", i)) for i, item in enumerate(items)]


def parse_ids(raw: Any) -> list[str]:
    ids: list[str] = _validate(_IDS, raw, ("body",))
    if any(not i or len(i) > MAX_STR for i in ids):
        raise ApiError(400, "Invalid payload: order ids must be non-empty strings")
    return ids


def _validate(adapter: TypeAdapter[Any], raw: Any, where: tuple[Any, ...]) -> Any:
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": (*where, *e.get("loc", ()))} for e in exc.errors()]
        raise RequestValidationError(errors) from None
