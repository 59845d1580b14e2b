"""Message samples in the shapes Polymarket documents (docs.polymarket.com, market and user channel
pages, the Sept 2025 price_change migration guide, the RTDS crypto prices page)."""

from __future__ import annotations

from typing import Any

MARKET = "0xbd31dc8a20211944f6b70f31557f1001557b59905b7738480ca09bd4532f84af"
TOKEN = "65818619657568813474341868652308942079804919287380422192892211131408793125422"
OTHER = "52114319501245915516055106046884209969926127482827954674443846427813813222426"

BOOK: dict[str, Any] = {
    "event_type": "book",
    "asset_id": TOKEN,
    "market": MARKET,
    "bids": [
        {"price": ".48", "size": "30"},
        {"price": ".49", "size": "20"},
        {"price": ".50", "size": "15"},
    ],
    "asks": [
        {"price": ".52", "size": "25"},
        {"price": ".53", "size": "60"},
        {"price": ".54", "size": "10"},
    ],
    "timestamp": "123456789000",
    "hash": "0x0....",
}

PRICE_CHANGE: dict[str, Any] = {
    "market": MARKET,
    "price_changes": [
        {
            "asset_id": TOKEN,
            "price": "0.51",
            "size": "200",
            "side": "BUY",
            "hash": "56621a121a47ed9333273e21c83b660cff37ae50",
            "best_bid": "0.51",
            "best_ask": "0.52",
        },
        {
            "asset_id": TOKEN,
            "price": "0.52",
            "size": "0",
            "side": "SELL",
            "hash": "1895759e4df7a796bf4f1c5a5950b748306923e2",
            "best_bid": "0.51",
            "best_ask": "0.53",
        },
    ],
    "timestamp": "1757908892351",
    "event_type": "price_change",
}

TICK_SIZE_CHANGE: dict[str, Any] = {
    "event_type": "tick_size_change",
    "asset_id": TOKEN,
    "market": MARKET,
    "old_tick_size": "0.01",
    "new_tick_size": "0.001",
    "timestamp": "100000000",
}

LAST_TRADE_PRICE: dict[str, Any] = {
    "asset_id": TOKEN,
    "event_type": "last_trade_price",
    "fee_rate_bps": "0",
    "market": MARKET,
    "price": "0.456",
    "side": "BUY",
    "size": "219.217767",
    "timestamp": "1750428146322",
}

ORDER: dict[str, Any] = {
    "asset_id": OTHER,
    "associate_trades": None,
    "event_type": "order",
    "id": "0xff354cd7ca7539dfa9c28d90943ab5779a4eac34b9b37a757d7b32bdfb11790b",
    "market": MARKET,
    "order_owner": "9180014b-33c8-9240-a14b-bdca11c0a465",
    "original_size": "10",
    "outcome": "YES",
    "owner": "9180014b-33c8-9240-a14b-bdca11c0a465",
    "price": "0.57",
    "side": "SELL",
    "size_matched": "0",
    "timestamp": "1672290687",
    "type": "PLACEMENT",
}

TRADE: dict[str, Any] = {
    "asset_id": OTHER,
    "event_type": "trade",
    "id": "28c4d2eb-bbea-40e7-a9f0-b2fdb56b2c2e",
    "last_update": "1672290701",
    "maker_orders": [
        {
            "asset_id": OTHER,
            "matched_amount": "10",
            "order_id": "0xff354cd7ca7539dfa9c28d90943ab5779a4eac34b9b37a757d7b32bdfb11790b",
            "outcome": "YES",
            "owner": "9180014b-33c8-9240-a14b-bdca11c0a465",
            "price": "0.57",
            # Not in the docs' sample, but polymarket-client requires it (docs/live-data.md).
            "side": "SELL",
        }
    ],
    "market": MARKET,
    "matchtime": "1672290701",
    "outcome": "YES",
    "owner": "9180014b-33c8-9240-a14b-bdca11c0a465",
    "price": "0.57",
    "side": "BUY",
    "size": "10",
    "status": "MATCHED",
    "taker_order_id": "0x06bc63e346ed4ceddce9efd6b3af37c8f8f440c92fe7da6b2d0f9e4ccbc50c42",
    "timestamp": "1672290701",
    "trade_owner": "9180014b-33c8-9240-a14b-bdca11c0a465",
    "type": "TRADE",
}

CHAINLINK_PRICE: dict[str, Any] = {
    "topic": "crypto_prices_chainlink",
    "type": "update",
    "timestamp": 1753314064237,
    "payload": {"symbol": "eth/usd", "timestamp": 1753314064213, "value": 3456.78},
}

BINANCE_PRICE: dict[str, Any] = {
    "topic": "crypto_prices",
    "type": "update",
    "timestamp": 1753314064237,
    "payload": {"symbol": "solusdt", "timestamp": 1753314064213, "value": 189.55},
}
