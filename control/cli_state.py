"""`neverblink state`: what an operator asks first, readable at 80 columns.

Default view: a summary line (open windows, open positions and their cost,
pending orders, realized PnL today and in total), then the open windows (with
their strike: the start price, where it came from, or why it is missing), the
open positions, the pending orders and the fills whose venue trade is not
CONFIRMED yet (counted in the position from MATCHED on). Markets are named `btc 5m 14:30-14:35`
(asset, interval, window in venue time, UTC), so rows tell apart at a glance.
`--all` adds the settled history (full market names, human times); `--json`
prints every record as before, plus the summary.

A reading command: it never starts the home's embedded Redis.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import click
import redis
from rich import box
from rich.console import Console
from rich.table import Table

from control.cli_common import json_option, print_json, require_redis, settings_options
from state_store.codec import plain
from state_store.keys import Keys
from state_store.models import Position, WindowStatus
from state_store.settings import Settings
from state_store.store import Store

DAY_S = 86_400


def _jsonable(record: Any) -> dict[str, Any]:
    out = {}
    for key, value in dataclasses.asdict(record).items():
        out[key] = plain(value) if isinstance(value, Decimal) else value
    return out


def _settled_at(client: redis.Redis, keys: Keys, markets: list[str]) -> dict[str, float]:
    """Wall-clock time each settled window was settled (the `settled_at` field)."""
    pipe = client.pipeline(transaction=False)
    for market in markets:
        pipe.hget(keys.window(market), "settled_at")
    return {m: float(v or 0) for m, v in zip(markets, pipe.execute(), strict=True)}


def summary(
    positions: Iterable[Position], settled_at: dict[str, float], orders: int, windows: int,
    now: float,
) -> dict[str, Any]:  # fmt: skip
    """Counts and PnL; "today" is the current UTC day of the wall clock (settlement time)."""
    day_start = now - now % DAY_S
    today = total = cost = Decimal(0)
    settled_today = settled = open_positions = 0
    for p in positions:
        if p.settled:
            settled += 1
            total += p.realized_pnl
            if settled_at.get(p.market, 0) >= day_start:
                settled_today += 1
                today += p.realized_pnl
        elif p.fill_count:
            open_positions += 1
            cost -= p.cash
    return {
        "open_windows": windows,
        "open_positions": open_positions,
        "open_cost": plain(cost),
        "pending_orders": orders,
        "pnl_today": plain(today),
        "settled_today": settled_today,
        "pnl_total": plain(total),
        "settled_total": settled,
    }


def collect_state(client: redis.Redis, store: Store, now: float | None = None) -> dict[str, Any]:
    windows, positions, orders = store.windows(), store.positions(), store.pending_orders()
    unconfirmed = store.unconfirmed_fills()
    settled = [p.market for p in positions if p.settled]
    live = [w for w in windows if w.status is not WindowStatus.SETTLED]
    return {
        "bot": store.bot,
        "summary": summary(
            positions,
            _settled_at(client, store.keys, settled),
            len(orders),
            len(live),
            time.time() if now is None else now,
        ),
        "windows": [_jsonable(w) for w in windows],
        "positions": [_jsonable(p) for p in positions],
        "pending_orders": [_jsonable(o) for o in orders],
        "unconfirmed_fills": [_jsonable(f) for f in unconfirmed],
    }


# -- rendering -------------------------------------------------------------------


def _utc(ts: float, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(ts)) if ts > 0 else "-"


def short_market(market: str, windows: dict[str, dict[str, Any]]) -> str:
    """`btc 5m 14:30-14:35` for a known window (venue time, UTC), else the market name."""
    w = windows.get(market)
    if not w:
        return market
    span = f"{_utc(w['start_ts'], '%H:%M')}-{_utc(w['end_ts'], '%H:%M')}"
    return f"{w['asset']} {w['interval']} {span}"


def _table(title: str, columns: list[str], rows: list[list[str]], empty: str) -> Table | str:
    if not rows:
        return f"[bold]{title}[/bold]: {empty}"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    return table


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):+.2f}"


def summary_line(s: dict[str, Any]) -> str:
    return (
        f"{s['open_windows']} open windows | {s['open_positions']} open positions "
        f"(cost {Decimal(s['open_cost']):.2f}) | {s['pending_orders']} pending orders\n"
        f"PnL today (UTC) {_money(s['pnl_today'])} over {s['settled_today']} settled | "
        f"all time {_money(s['pnl_total'])} over {s['settled_total']}"
    )


STRIKE_NOTE_CHARS = 40


def strike_text(window: dict[str, Any]) -> str:
    """`97012.5 (stream)`, or `- (why it is missing)`, or `-` while it is not known yet."""
    if window.get("start_price"):
        source = window.get("strike_source") or ""
        return f"{window['start_price']} ({source})" if source else str(window["start_price"])
    missing = str(window.get("strike_missing") or "")
    if missing:
        short = missing if len(missing) <= STRIKE_NOTE_CHARS else missing[:STRIKE_NOTE_CHARS] + "…"
        return f"- ({short})"
    return "-"


def print_state(
    state: dict[str, Any], show_all: bool = False, console: Console | None = None
) -> None:
    out = console or Console()
    by_market = {w["market"]: w for w in state["windows"]}
    name = (lambda m: m) if show_all else (lambda m: short_market(m, by_market))
    out.print(f"bot [bold]{state['bot']}[/bold]", highlight=False)
    out.print(summary_line(state["summary"]), highlight=False)
    live = [w for w in state["windows"] if w["status"] != "settled"]
    live.sort(key=lambda w: (w["end_ts"], w["market"]))
    rows = [[name(w["market"]), w["status"], strike_text(w)] for w in live]
    out.print(_table("Open windows", ["market", "status", "strike"], rows, "none"))
    open_pos = [p for p in state["positions"] if not p["settled"] and p["fill_count"]]
    rows = [
        [name(p["market"]), p["up_shares"], p["down_shares"], f"{-Decimal(p['cash']):.2f}",
         str(p["fill_count"])]
        for p in open_pos
    ]  # fmt: skip
    out.print(_table("Open positions", ["market", "Up", "Down", "cost", "fills"], rows, "none"))
    rows = [
        [name(o["market"]), o["strategy"], f"{o['side']} {o['outcome']}", o["price"],
         f"{o['filled']}/{o['size']}", str(o["status"]).replace("_", " ")]
        for o in state["pending_orders"]
    ]  # fmt: skip
    columns = ["market", "strategy", "order", "price", "filled", "status"]
    out.print(_table("Pending orders", columns, rows, "none"))
    rows = [
        [name(f["market"]), f"{f['side']} {f['outcome']}", f"{f['size']}@{f['price']}",
         f["trade_status"]]
        for f in state.get("unconfirmed_fills", [])
    ]  # fmt: skip
    columns = ["market", "fill", "size@price", "trade"]
    out.print(_table("Unconfirmed fills (counted, trade not CONFIRMED)", columns, rows, "none"))
    if show_all:
        out.print(_history(state))


def _history(state: dict[str, Any]) -> Table | str:
    pnl = {p["market"]: p["realized_pnl"] for p in state["positions"]}
    settled = [w for w in state["windows"] if w["status"] == "settled"]
    settled.sort(key=lambda w: (w["end_ts"], w["market"]), reverse=True)
    rows = [
        [w["market"], _utc(w["start_ts"], "%Y-%m-%d %H:%M") + _utc(w["end_ts"], "-%H:%M"),
         w["winner"] or "-", _money(pnl[w["market"]]) if w["market"] in pnl else "-"]
        for w in settled
    ]  # fmt: skip
    columns = ["market", "window (venue, UTC)", "winner", "PnL"]
    return _table("Settled windows (newest first)", columns, rows, "none yet")


@click.command("state")
@settings_options
@click.option("--all", "show_all", is_flag=True, help="Also the settled history, full names")
@json_option
def state_command(settings: Settings, show_all: bool, as_json: bool) -> None:
    """Open windows, open positions, pending orders and today's PnL of the bot.

    Markets read `btc 5m 14:30-14:35`: asset, interval and the window on the
    venue's clock (UTC). --all adds every settled window with its PnL.
    Never starts the home's embedded Redis.
    """
    client = require_redis(settings, "cannot read the bot's state", start_embedded=False)
    try:
        state = collect_state(client, Store(client, settings.bot))
    finally:
        client.close()
    if as_json:
        print_json(state)
    else:
        print_state(state, show_all)


COMMANDS = [state_command]
