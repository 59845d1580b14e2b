"""`neverblink account [init]`: the live trading account, never its secrets.

`account init` creates or derives the API credentials through L1 (the key signs
a `ClobAuth` message) and stores them 0600 in the home; `account` shows the
signing address, signature type, funder, pUSD balance and allowances and the
state of the key and the stored credentials (`--json` for scripts). The key
comes from $NEVERBLINK_PRIVATE_KEY or the 0600 file $NEVERBLINK_PRIVATE_KEY_FILE.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

import click

from control.cli_common import settings_options
from control.cli_venue_options import credentials_path, live_options, live_spec
from state_store.settings import Settings

PUSD_UNIT = Decimal("1e6")  # balances and allowances are in 1e-6 pUSD


@click.group("account", invoke_without_command=True)
@settings_options
@live_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@click.pass_context
def account_command(
    ctx: click.Context,
    settings: Settings,
    live: tuple[str | None, str, str | None],
    as_json: bool,
) -> None:
    """Show the live account: address, signature type, funder, balance, allowance, key status."""
    if ctx.invoked_subcommand is not None:
        return
    report = account_report(settings, live)
    if as_json:
        click.echo(json.dumps(report, sort_keys=True))
        return
    for name, value in report.items():
        shown = json.dumps(value, sort_keys=True) if isinstance(value, dict) else value
        click.echo(f"{name:<18} {shown}")


@account_command.command("init")
@settings_options
@live_options
def init_command(settings: Settings, live: tuple[str | None, str, str | None]) -> None:
    """Create or derive the API credentials through L1 and store them 0600 in the home."""
    from exchange.factory import open_venue
    from exchange.live.credentials import save_credentials

    spec = live_spec(settings, live)
    venue, close = open_venue(spec, timeout_s=10.0)
    try:
        creds = venue.credentials  # type: ignore[attr-defined]  # a LiveVenue
        save_credentials(credentials_path(settings), creds)
    finally:
        close()
    click.echo(
        f"API key {creds.api_key} for {creds.address} stored in {credentials_path(settings)}"
    )


def account_report(settings: Settings, live: tuple[str | None, str, str | None]) -> dict[str, Any]:
    """What the operator checks before trading; the venue is asked only with --clob-url."""
    from exchange.live.credentials import load_credentials
    from exchange.live.keys import KEY_ENV, KEY_FILE_ENV, SigningKeyError, load_account

    clob_url, wallet_type, funder = live
    report: dict[str, Any] = {"clob_url": clob_url or None, "wallet_type": wallet_type}
    source = f"${KEY_ENV}" if os.environ.get(KEY_ENV) else os.environ.get(KEY_FILE_ENV)
    try:
        account = load_account()
    except SigningKeyError as exc:
        report["key_status"] = f"unusable: {exc}"
        return report
    from exchange.eip712 import SIGNATURE_TYPES

    report.update(
        address=account.address,
        signature_type=SIGNATURE_TYPES[wallet_type],  # type: ignore[index]
        funder=funder or account.address,
        key_status=f"ok ({source})",
    )
    path = credentials_path(settings)
    try:
        creds = load_credentials(path)
    except SigningKeyError as exc:
        creds, report["credentials"] = None, f"unusable: {exc}"
    else:
        report["credentials"] = _credentials_status(creds, account.address, str(path))
    if clob_url:
        report.update(_balances(settings, live))
    return report


def _credentials_status(creds: Any, address: str, path: str) -> str:
    if creds is None:
        return f"none stored ({path}): run `neverblink account init`"
    if creds.address.lower() != address.lower():
        return f"stored for another address ({creds.address}): run `neverblink account init`"
    return f"api key {creds.api_key} ({path})"


def _balances(settings: Settings, live: tuple[str | None, str, str | None]) -> dict[str, Any]:
    from exchange.factory import open_venue

    venue, close = open_venue(live_spec(settings, live), timeout_s=10.0)
    try:
        found = venue.balance_allowance()  # type: ignore[attr-defined]  # a LiveVenue
    finally:
        close()
    return {
        "pusd_balance": str(Decimal(found.balance) / PUSD_UNIT),
        "allowances": {k: str(Decimal(v) / PUSD_UNIT) for k, v in found.allowances.items()},
    }


COMMANDS = [account_command]
