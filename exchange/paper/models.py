"""The paper venue's own records, stored as flat Redis hashes (readable with HGETALL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from exchange.types import Outcome, Side

#: Order states as /data/order reports them.
OrderState = Literal["LIVE", "MATCHED", "CANCELED"]


@dataclass(frozen=True)
class PaperWindow:
    slug: str
    condition_id: str
    asset: str
    interval: str  # "5m" / "15m": the slug label
    length: int  # venue seconds
    start_ts: int
    end_ts: int
    up_token: str
    down_token: str
    start_price: str
    end_price: str | None = None
    winner: Outcome | None = None
    closed: bool = False

    def token(self, outcome: Outcome) -> str:
        return self.up_token if outcome == "Up" else self.down_token

    def is_open(self, now: float) -> bool:
        return not self.closed and self.start_ts <= now < self.end_ts

    def to_hash(self) -> dict[str, str]:
        return {
            "slug": self.slug,
            "condition_id": self.condition_id,
            "asset": self.asset,
            "interval": self.interval,
            "length": str(self.length),
            "start_ts": str(self.start_ts),
            "end_ts": str(self.end_ts),
            "up_token": self.up_token,
            "down_token": self.down_token,
            "start_price": self.start_price,
            "end_price": self.end_price or "",
            "winner": self.winner or "",
            "closed": "1" if self.closed else "0",
        }

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> PaperWindow:
        winner = raw.get("winner") or None
        return cls(
            slug=raw["slug"],
            condition_id=raw["condition_id"],
            asset=raw["asset"],
            interval=raw["interval"],
            length=int(raw["length"]),
            start_ts=int(raw["start_ts"]),
            end_ts=int(raw["end_ts"]),
            up_token=raw["up_token"],
            down_token=raw["down_token"],
            start_price=raw["start_price"],
            end_price=raw.get("end_price") or None,
            winner="Up" if winner == "Up" else "Down" if winner == "Down" else None,
            closed=raw.get("closed") == "1",
        )


@dataclass(frozen=True)
class PaperOrder:
    order_id: str
    owner: str
    maker: str
    token_id: str
    market: str  # condition id
    slug: str
    outcome: Outcome
    side: Side
    price: Decimal
    original_size: Decimal
    order_type: str
    expiration: int
    created_at: int
    seq: int
    checked_step: int  # last venue second matched against the book
    size_matched: Decimal = Decimal(0)
    making: Decimal = Decimal(0)  # given so far: USDC for a BUY, shares for a SELL
    taking: Decimal = Decimal(0)  # received so far
    status: OrderState = "LIVE"
    trades: tuple[str, ...] = field(default=())

    @property
    def remaining(self) -> Decimal:
        return self.original_size - self.size_matched

    def to_hash(self) -> dict[str, str]:
        return {
            "id": self.order_id,
            "owner": self.owner,
            "maker_address": self.maker,
            "asset_id": self.token_id,
            "market": self.market,
            "slug": self.slug,
            "outcome": self.outcome,
            "side": self.side,
            "price": str(self.price),
            "original_size": str(self.original_size),
            "order_type": self.order_type,
            "expiration": str(self.expiration),
            "created_at": str(self.created_at),
            "seq": str(self.seq),
            "checked_step": str(self.checked_step),
            "size_matched": str(self.size_matched),
            "making": str(self.making),
            "taking": str(self.taking),
            "status": self.status,
            "associate_trades": ",".join(self.trades),
        }

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> PaperOrder:
        status = raw["status"]
        return cls(
            order_id=raw["id"],
            owner=raw["owner"],
            maker=raw["maker_address"],
            token_id=raw["asset_id"],
            market=raw["market"],
            slug=raw["slug"],
            outcome="Up" if raw["outcome"] == "Up" else "Down",
            side="BUY" if raw["side"] == "BUY" else "SELL",
            price=Decimal(raw["price"]),
            original_size=Decimal(raw["original_size"]),
            order_type=raw["order_type"],
            expiration=int(raw["expiration"]),
            created_at=int(raw["created_at"]),
            seq=int(raw["seq"]),
            checked_step=int(raw["checked_step"]),
            size_matched=Decimal(raw["size_matched"]),
            making=Decimal(raw["making"]),
            taking=Decimal(raw["taking"]),
            status="LIVE" if status == "LIVE" else "MATCHED" if status == "MATCHED" else "CANCELED",
            trades=tuple(t for t in raw.get("associate_trades", "").split(",") if t),
        )
