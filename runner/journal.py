"""Degraded mode's fill journal: venue fills learned while Redis is unreachable.

One append-only JSON-lines file per bot and replica, fsynced per batch. Each
line holds a batch of fills and the venue cursor after them. When Redis is
back the journal is applied (idempotent by fill id) and set aside.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange.types import VenueFill


def journal_path(home: Path, bot: str, replica: str) -> Path:
    return home / "journal" / f"{bot}-{replica}.jsonl"


def append(path: Path, fills: list[VenueFill], cursor: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"cursor": cursor, "fills": [_encode(f) for f in fills]}, default=str)
    with open(path, "a") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


def read(path: Path) -> tuple[list[VenueFill], str | None]:
    """Every complete line's fills, and the last cursor; a torn last line is skipped."""
    fills: list[VenueFill] = []
    cursor: str | None = None
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return [], None
    for line in lines:
        try:
            batch = json.loads(line)
        except ValueError:
            continue
        fills.extend(_decode(f) for f in batch.get("fills", []))
        cursor = batch.get("cursor") or cursor
    return fills, cursor


def set_aside(path: Path) -> None:
    if path.exists():
        path.rename(path.with_suffix(f".applied-{int(time.time() * 1000)}"))


def _encode(fill: VenueFill) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(fill).items()}


def _decode(raw: dict[str, Any]) -> VenueFill:
    return VenueFill(
        fill_id=raw["fill_id"], order_id=raw["order_id"], token_id=raw["token_id"],
        market=raw["market"], side=raw["side"], price=Decimal(raw["price"]),
        size=Decimal(raw["size"]), ts=float(raw["ts"]), fee=Decimal(raw.get("fee", "0")),
        status=raw.get("status", ""),
    )  # fmt: skip
