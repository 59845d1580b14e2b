"""`neverblink ctl ...`: read and change the bot's desired state (a thin shell over ControlService).

Exit codes: 0 done, 1 refused or invalid (the message says why), 2 usage error.
Every command says which plane it wrote: Redis + control.json, or
control.json alone when Redis is unreachable (runners obey it at their next tick).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from pydantic import BaseModel

from control.cli_common import json_option, print_json, settings_options
from control.commands import Refused, UsageError, parse_assignments
from control.service import ControlResult, ControlService
from state_store.settings import Settings

EXIT_REFUSED = 1
R = TypeVar("R", bound=BaseModel)


@contextmanager
def _service(settings: Settings) -> Iterator[ControlService]:
    service = ControlService(settings)
    try:
        yield service
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except Refused as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(EXIT_REFUSED)
    finally:
        service.close()


def _report(result: ControlResult, as_json: bool) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        print_json(result.to_json())
    else:
        click.echo(result.message)


def _apply(settings: Settings, command: str, args: Mapping[str, Any], as_json: bool) -> None:
    with _service(settings) as service:
        result = service.apply(command, args)
    _report(result, as_json)


@click.group("ctl")
def ctl_group() -> None:
    """Read and change the desired state (Redis + control.json, or control.json alone).

    \b
    Every change bumps the version and is audited (Redis stream + audit.jsonl).
    With Redis unreachable, control.json alone is written; runners obey it at
    their next tick and the higher version is copied to Redis when it is back.
    Editing control.json by hand works: bump "version" past the current one,
    or Redis wins and the file is rewritten; it must be valid as a command
    would make it (config within the strategies' PARAMS, versions leaving
    room for commands) or it is refused, with the reason in status. A
    control.json that does not parse is never overwritten silently: with
    Redis up it is moved aside to control.json.rejected-<ms> (with a
    warning); with Redis down the command is refused (exit 1) until the file
    is fixed or moved away.
    Exit codes: 0 done, 1 refused, 2 usage error.
    """


def _simple(name: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @settings_options
    @json_option
    def command(settings: Settings, as_json: bool) -> None:
        _apply(settings, name, {}, as_json)

    return command


SIMPLE: tuple[tuple[str, str], ...] = (
    ("pause", "Stop new entries (open orders and positions stay)."),
    ("resume", "Allow entries again; also clears a kill."),
    ("flatten", "Cancel pending orders and close positions at the venue (trading continues)."),
    ("kill", "Flatten, then no entries until an explicit resume."),
)
for _name, _help in SIMPLE:
    ctl_group.add_command(_simple(_name, _help))


@ctl_group.command("reload")
@click.argument("module", required=False)
@settings_options
@json_option
def reload_command(settings: Settings, module: str | None, as_json: bool) -> None:
    """Ask runners to reload strategy code (all of it, or after a change to MODULE)."""
    _apply(settings, "reload", {"module": module} if module else {}, as_json)


@ctl_group.group("config")
def config_group() -> None:
    """Strategy parameters: PARAMS defaults and runtime overrides."""


@config_group.command("get")
@click.argument("strategy", required=False)
@settings_options
@json_option
def config_get(settings: Settings, strategy: str | None, as_json: bool) -> None:
    """Show defaults, overrides and the values in force (of STRATEGY, or of all)."""
    from control.status_render import print_config

    with _service(settings) as service:
        report = service.config_get(strategy)
    _print(report, as_json, print_config)


@config_group.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="STRATEGY.KEY=VALUE...")
@settings_options
@json_option
def config_set(settings: Settings, assignments: tuple[str, ...], as_json: bool) -> None:
    """Override parameters, typed like their PARAMS defaults (int, float, bool, str)."""
    try:
        values = parse_assignments(assignments)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    _apply(settings, "config_set", {"values": values}, as_json)


@ctl_group.group("risk")
def risk_group() -> None:
    """Risk limits the runtime enforces on every order (docs/risk.md).

    \b
    Scopes: `bot` (the whole bot) or a strategy's name (its limits default to
    the bot's). Limits: max_shares, max_notional, max_open_orders, max_daily_loss.
    A BUY that would pass a limit is refused; a SELL never is. Passing the daily
    loss also pauses entries (audited as risk_pause).
    """


@risk_group.command("get")
@settings_options
@json_option
def risk_get(settings: Settings, as_json: bool) -> None:
    """Show the limits in force per scope, the orders refused and the day's PnL."""
    from control.status_render import print_risk

    with _service(settings) as service:
        report = service.risk_get()
    _print(report, as_json, print_risk)


@risk_group.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="SCOPE.LIMIT=VALUE...")
@settings_options
@json_option
def risk_set(settings: Settings, assignments: tuple[str, ...], as_json: bool) -> None:
    """Set limits, e.g. `bot.max_shares=200 momentum.max_open_orders=4`."""
    try:
        values = parse_assignments(assignments, "SCOPE.LIMIT=VALUE", "risk set")
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    _apply(settings, "risk_set", {"values": values}, as_json)


@ctl_group.command("status")
@settings_options
@json_option
def status_command(settings: Settings, as_json: bool) -> None:
    """Runners, code version, positions, pending orders, reloads and control state."""
    from control.status_render import print_status

    with _service(settings) as service:
        status = service.status()
    _print(status, as_json, print_status)


def _print(data: R, as_json: bool, render: Callable[[R], None]) -> None:
    if as_json:
        print_json(data.model_dump(mode="json"))
    else:
        render(data)


COMMANDS = [ctl_group]
