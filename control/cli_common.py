"""Options every command shares: the settings of the interface contract, as flags and env vars."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import redis

from control.cli_errors import OperatorError
from state_store.connection import check_jobs_redis_url, check_redis_url
from state_store.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def settings_options(func: F) -> F:
    """Add --home/--redis-url/--bot/--strategies/--jobs-redis-url and pass a resolved
    `settings` argument."""

    @click.option("--home", envvar="NEVERBLINK_HOME", help="Home folder [default: ./.neverblink]")
    @click.option(
        "--redis-url",
        envvar="NEVERBLINK_REDIS_URL",
        help="redis://, rediss://, unix://, redis+sentinel:// or redis+cluster:// URL "
        "[default: embedded Redis]",
    )
    @click.option(
        "--bot", envvar="NEVERBLINK_BOT", help="Bot id, the {B} of every key [default: default]"
    )
    @click.option(
        "--strategies",
        envvar="NEVERBLINK_STRATEGIES",
        help="Strategies folder [default: ./strategies]",
    )
    @click.option(
        "--jobs-redis-url",
        envvar="NEVERBLINK_JOBS_REDIS_URL",
        help="Redis of the rq job queue (not a Cluster; required with a redis+cluster:// "
        "--redis-url) [default: --redis-url]",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        home: str | None,
        redis_url: str | None,
        bot: str | None,
        strategies: str | None,
        jobs_redis_url: str | None,
        **kwargs: Any,
    ) -> Any:
        try:
            settings = Settings.resolve(home, redis_url, bot, strategies, jobs_redis_url)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        try:
            check_redis_url(settings.redis_url)
            check_jobs_redis_url(settings.jobs_redis_url)
        except ValueError as exc:
            raise OperatorError(f"bad Redis URL: {exc}") from exc
        return func(*args, settings=settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def checked_redis_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """Click callback: a --redis-url that cannot be a Redis URL is a one-line error."""
    try:
        check_redis_url(value)
    except ValueError as exc:
        raise OperatorError(f"bad Redis URL: {exc}") from exc
    return value


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def require_redis(
    settings: Settings, what: str, *, start_embedded: bool = True, client_name: str | None = None
) -> redis.Redis:
    """A client for the bot's Redis that answered a PING, else a one-line error naming `what`.

    `start_embedded=False`: a reading command; it does not start the home's embedded Redis.
    """
    from state_store.connection import connect, describe_target, redis_available
    from state_store.embedded import embedded_running

    if not settings.redis_url and not start_embedded and not embedded_running(settings.home):
        raise OperatorError(
            f"{what}: the embedded Redis of {settings.home} is not running, so there is "
            "nothing to read (reading commands do not start it). Start the bot "
            "(`neverblink demo`, `neverblink run`) or `neverblink redis`, or pass --redis-url"
        )
    try:
        client = connect(settings, start_embedded=start_embedded, client_name=client_name)
    except redis.ConnectionError:  # a Cluster client reads its slot map at once
        client = None
    if client is None or not redis_available(client, timeout=2.0):
        if client is not None:
            client.close()
        raise OperatorError(
            f"{what}: Redis at {describe_target(settings)} does not answer. Is it running? "
            "Check --redis-url / NEVERBLINK_REDIS_URL"
        )
    return client
