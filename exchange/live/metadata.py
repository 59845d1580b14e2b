"""Per-market order metadata (tick, neg-risk, fee data), read the SDK's way and cached.

`GET /markets-by-token/{token}` names the condition; `GET /clob-markets/{condition}`
gives tick (`mts`), neg-risk (`nr`), tokens (`t`) and fee data (`fd`: rate,
exponent), parsed with polymarket-client's own parsers. A token's condition
never changes; market records expire after `ttl_s` (ticks can change) or when
an order is refused for its tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from polymarket._internal.actions.orders.market_data import (
    _parse_condition_by_token,
    _parse_market_info,
)

from exchange.eip712 import MAINNET, Contracts, Domain, domain_for

DEFAULT_TTL_S = 600.0


@dataclass(frozen=True)
class MarketMeta:
    condition_id: str
    tick_size: Decimal
    neg_risk: bool
    fee_rate: Decimal
    fee_exponent: Decimal
    token_ids: frozenset[str]

    def domain(self, token_id: str, contracts: Contracts = MAINNET) -> Domain:
        """Where orders of this market are signed: v2 tokens on ExchangeV3 ("3"), neg-risk
        markets on the neg-risk exchange, the rest on the standard exchange ("2")."""
        return domain_for(token_id, self.neg_risk, contracts)

    def taker_fee(self, shares: Decimal, price: Decimal) -> Decimal:
        """shares * rate * (p * (1 - p)) ** exponent; makers pay none."""
        return shares * self.fee_rate * (price * (1 - price)) ** self.fee_exponent


class MetadataCache:
    def __init__(
        self,
        get_json: Callable[[str], Any],
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._get_json = get_json
        self.ttl_s = ttl_s
        self._clock = clock
        self._conditions: dict[str, str] = {}
        self._markets: dict[str, tuple[float, MarketMeta]] = {}

    def meta(self, token_id: str) -> MarketMeta:
        condition_id = self._conditions.get(token_id)
        if condition_id is None:
            condition_id = str(
                _parse_condition_by_token(self._get_json(f"/markets-by-token/{token_id}"))
            )
        cached = self._markets.get(condition_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        market = self._load(condition_id)
        if token_id not in market.token_ids:
            self._conditions.pop(token_id, None)
            raise LookupError(f"market {condition_id} does not list token {token_id}")
        return market

    def seed(self, market: MarketMeta) -> bool:
        """Take a market's terms learned elsewhere (window discovery, Gamma) unless a record
        is cached already; it expires like a fetched one. True when it was taken."""
        cached = self._markets.get(market.condition_id)
        if cached is not None and cached[0] > self._clock():
            return False
        self._markets[market.condition_id] = (self._clock() + self.ttl_s, market)
        for token_id in market.token_ids:
            self._conditions[token_id] = market.condition_id
        return True

    def forget(self, token_id: str) -> None:
        """Drop the token's market record (e.g. after an off-tick refusal)."""
        condition_id = self._conditions.get(token_id)
        if condition_id is not None:
            self._markets.pop(condition_id, None)

    def _load(self, condition_id: str) -> MarketMeta:
        info = _parse_market_info(self._get_json(f"/clob-markets/{condition_id}"))
        market = MarketMeta(
            condition_id=condition_id,
            tick_size=info.tick_size,
            neg_risk=info.neg_risk,
            fee_rate=info.fee_info.rate,
            fee_exponent=info.fee_info.exponent,
            token_ids=frozenset(str(t) for t in info.asset_ids),
        )
        self._markets[condition_id] = (self._clock() + self.ttl_s, market)
        for token_id in market.token_ids:
            self._conditions[token_id] = condition_id
        return market
