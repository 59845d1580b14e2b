"""Operational failures as one line for the operator, never a Python traceback.

Every `neverblink` command runs inside `one_line_errors`: an unreachable or
failing Redis, an embedded Redis that cannot start, a file or port the OS
refuses become `Error: <what> (<cause>). <next step>` and exit 1. Usage
errors stay click's (exit 2). NEVERBLINK_DEBUG=1 shows the traceback instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
import redis

from exchange.errors import VenueError
from exchange.factory import VenueConfigError
from state_store.connection import JobsRedisMissing
from state_store.embedded import EmbeddedRedisError

ENV_DEBUG = "NEVERBLINK_DEBUG"
REDIS_HINT = (
    "Is it running? Check --redis-url / NEVERBLINK_REDIS_URL, or leave it unset to use the "
    "home's embedded Redis"
)


class OperatorError(click.ClickException):
    """A failure the operator can act on; shown as one line (newlines folded), exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@contextmanager
def one_line_errors() -> Iterator[None]:
    if os.environ.get(ENV_DEBUG) == "1":
        yield
        return
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise OperatorError(f"Redis unreachable ({exc}). {REDIS_HINT}") from exc
    except redis.RedisError as exc:
        raise OperatorError(f"Redis refused a command ({type(exc).__name__}: {exc})") from exc
    except JobsRedisMissing as exc:
        raise OperatorError(str(exc)) from exc
    except EmbeddedRedisError as exc:
        raise OperatorError(f"embedded Redis: {exc}") from exc
    except (VenueError, VenueConfigError) as exc:  # their messages never carry a secret
        raise OperatorError(f"venue: {exc}") from exc
    except OSError as exc:
        raise OperatorError(f"{type(exc).__name__}: {exc}") from exc
