"""The `neverblink` command line: one group, each command a thin shell over a module."""

from __future__ import annotations

from typing import Any

import click

from control.cli_errors import one_line_errors


class NeverblinkGroup(click.Group):
    """The top-level group: every command's operational failures become one line."""

    def invoke(self, ctx: click.Context) -> Any:
        with one_line_errors():
            return super().invoke(ctx)


@click.group(cls=NeverblinkGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """neverblink: a trading bot runtime that never restarts to ship code."""


def _register() -> None:
    """Commands live next to the code they drive; each module adds itself here."""
    from control import (
        cli_account,
        cli_bench,
        cli_bench_control,
        cli_bench_deploy,
        cli_bench_failover,
        cli_bench_scale,
        cli_bench_wait,
        cli_ctl,
        cli_demo,
        cli_redis,
        cli_replay,
        cli_run,
        cli_serve,
        cli_state,
        cli_venue,
        cli_watch,
        cli_worker,
    )

    modules = (
        cli_bench_scale,
        cli_state, cli_redis, cli_bench, cli_bench_control, cli_venue, cli_ctl, cli_replay,
        cli_run, cli_serve, cli_worker, cli_demo, cli_bench_failover,
        cli_watch, cli_bench_deploy, cli_account, cli_bench_wait,
    )  # fmt: skip
    for module in modules:
        for command in module.COMMANDS:
            main.add_command(command)


_register()
