"""`neverblink state`: positions, windows and pending orders of the bot."""

from __future__ import annotations

import click

from control.cli_common import json_option, settings_options
from state_store.settings import Settings


@click.command("state")
@settings_options
@json_option
def state_command(settings: Settings, as_json: bool) -> None:
    """Show positions, windows and pending orders of the bot."""
    raise click.ClickException("not wired yet")


COMMANDS = [state_command]
