"""The `neverblink` command line: one group, each command a thin shell over a module."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """neverblink: a trading bot runtime that never restarts to ship code."""


def _register() -> None:
    """Commands live next to the code they drive; each module adds itself here."""
    from control import cli_bench, cli_ctl, cli_redis, cli_state, cli_venue

    for module in (cli_state, cli_redis, cli_bench, cli_venue, cli_ctl):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
