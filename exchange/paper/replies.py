"""JSON shapes the paper venue answers with (those of the CLOB REST API, plus a `paper` object)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchange.paper.books import SyntheticBook
from exchange.paper.config import PaperConfig
from exchange.paper.models import PaperOrder, PaperWindow
from exchange.wire import encode_cursor

QUESTION = {"btc": "Bitcoin", "eth": "Ethereum", "sol": "Solana", "xrp": "XRP"}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def market_json(
    window: PaperWindow, config: PaperConfig, up_price: Decimal | None
) -> dict[str, Any]:
    """A /markets entry. Token prices: the Up mid while open, 1/0 once resolved."""

    def token(outcome: str, token_id: str) -> dict[str, Any]:
        if window.closed:
            price = 1.0 if window.winner == outcome else 0.0
        elif up_price is None:
            price = 0.5
        else:
            price = float(up_price if outcome == "Up" else 1 - up_price)
        return {
            "token_id": token_id,
            "outcome": outcome,
            "price": price,
            "winner": window.closed and window.winner == outcome,
        }

    return {
        "condition_id": window.condition_id,
        "question_id": window.condition_id,
        "question": f"{QUESTION.get(window.asset, window.asset)} Up or Down - "
        f"{iso(window.start_ts)} to {iso(window.end_ts)}",
        "description": "Resolves Up if the reference price at the end of the window is at or "
        "above the price at its start (paper venue).",
        "market_slug": window.slug,
        "end_date_iso": iso(window.end_ts),
        "game_start_time": iso(window.start_ts),
        "active": not window.closed,
        "closed": window.closed,
        "archived": False,
        "accepting_orders": not window.closed,
        "neg_risk": False,
        "minimum_order_size": float(config.min_order_size),
        "minimum_tick_size": float(config.tick_size),
        "tokens": [token("Up", window.up_token), token("Down", window.down_token)],
        "paper": {
            "asset": window.asset,
            "interval": window.interval,
            "interval_s": window.length,
            "start_ts": window.start_ts,
            "end_ts": window.end_ts,
            "start_price": window.start_price,
            "end_price": window.end_price,
        },
    }


def book_json(book: SyntheticBook, config: PaperConfig, ts: float) -> dict[str, Any]:
    """A /book answer. As on the real CLOB, bids ascend and asks descend: best levels last."""
    bids = [{"price": str(q.price), "size": str(q.size)} for q in reversed(book.bids)]
    asks = [{"price": str(q.price), "size": str(q.size)} for q in reversed(book.asks)]
    digest = hashlib.sha1(
        json.dumps([book.token_id, book.step, bids, asks]).encode(), usedforsecurity=False
    ).hexdigest()
    return {
        "market": book.market,
        "asset_id": book.token_id,
        "timestamp": str(int(ts * 1000)),
        "hash": digest,
        "bids": bids,
        "asks": asks,
        "min_order_size": str(config.min_order_size),
        "tick_size": str(config.tick_size),
        "neg_risk": False,
        "last_trade_price": str(book.mid(config.tick_size)),
    }


def order_json(order: PaperOrder) -> dict[str, Any]:
    """A /data/order(s) entry."""
    return {
        "id": order.order_id,
        "status": order.status,
        "owner": order.owner,
        "maker_address": order.maker,
        "market": order.market,
        "asset_id": order.token_id,
        "side": order.side,
        "original_size": str(order.original_size),
        "size_matched": str(order.size_matched),
        "price": str(order.price),
        "outcome": order.outcome,
        "expiration": str(order.expiration),
        "order_type": order.order_type,
        "associate_trades": list(order.trades),
        "created_at": order.created_at,
    }


def post_order_json(order: PaperOrder) -> dict[str, Any]:
    """The POST /order answer for an order that exists (new, or found again on a re-post)."""
    if order.size_matched > 0:
        status = "matched"
    elif order.status == "LIVE":
        status = "live"
    else:
        status = "canceled"
    return {
        "success": True,
        "errorMsg": "",
        "orderID": order.order_id,
        "status": status,
        "makingAmount": str(order.making),
        "takingAmount": str(order.taking),
        "transactionsHashes": [],
        "tradeIDs": list(order.trades),
        "orderHashes": [order.order_id] if order.size_matched > 0 else [],
    }


def refused_order_json(message: str) -> dict[str, Any]:
    """One refused order of POST /orders (the batch itself succeeded)."""
    return {
        "success": False,
        "errorMsg": message,
        "orderID": "",
        "status": "",
        "makingAmount": "0",
        "takingAmount": "0",
        "transactionsHashes": [],
        "tradeIDs": [],
    }


def page_json(items: list[Any], offset: int, limit: int, total: int) -> dict[str, Any]:
    end = offset + len(items)
    return {
        "data": items,
        "next_cursor": encode_cursor(end if end < total else -1),
        "limit": limit,
        "count": len(items),
    }
