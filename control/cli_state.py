"""`neverblink state`: positions, windows and pending orders of the bot."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from control.cli_common import json_option, print_json, settings_options
from state_store.codec import plain
from state_store.connection import connect
from state_store.settings import Settings
from state_store.store import Store


def _jsonable(record: Any) -> dict[str, Any]:
    out = {}
    for key, value in dataclasses.asdict(record).items():
        out[key] = plain(value) if isinstance(value, Decimal) else value
    return out


def collect_state(store: Store) -> dict[str, Any]:
    return {
        "bot": store.bot,
        "windows": [_jsonable(w) for w in store.windows()],
        "positions": [_jsonable(p) for p in store.positions()],
        "pending_orders": [_jsonable(o) for o in store.pending_orders()],
    }


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    return table


def print_state(state: dict[str, Any]) -> None:
    console = Console()
    console.print(f"bot [bold]{state['bot']}[/bold]")
    window_cols = ["market", "status", "start_ts", "end_ts", "start_price", "winner"]
    console.print(_table("Windows", state["windows"], window_cols))
    position_cols = ["market", "up_shares", "down_shares", "cash", "fill_count", "realized_pnl"]
    console.print(_table("Positions", state["positions"], position_cols))
    order_cols = ["client_order_id", "market", "strategy", "outcome", "side", "price", "size"]
    console.print(
        _table("Pending orders", state["pending_orders"], [*order_cols, "filled", "status"])
    )


@click.command("state")
@settings_options
@json_option
def state_command(settings: Settings, as_json: bool) -> None:
    """Show positions, windows and pending orders of the bot."""
    client = connect(settings)
    try:
        state = collect_state(Store(client, settings.bot))
    finally:
        client.close()
    if as_json:
        print_json(state)
    else:
        print_state(state)


COMMANDS = [state_command]
