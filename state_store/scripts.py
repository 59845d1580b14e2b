"""Loads the Lua transitions, each with the shared prelude, as redis-py Script objects.

`Script` runs EVALSHA and falls back to EVAL on NOSCRIPT, so a Redis that
restarted (and lost its script cache) is handled without our help.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import redis
from redis.commands.core import Script

SCRIPT_NAMES = (
    "create_order",
    "adopt_order",
    "ack_order",
    "apply_fill",
    "reverse_fill",
    "cancel_order",
    "open_window",
    "close_window",
    "settle_window",
    "claim_lease",
    "renew_lease",
    "release_lease",
    "snapshot",
    "record_strike",
    "append_prices",
)


@cache
def script_source(name: str) -> str:
    folder = resources.files("state_store") / "lua"
    prelude = (folder / "_prelude.lua").read_text()
    return prelude + "\n" + (folder / f"{name}.lua").read_text()


class Scripts:
    """The registered transitions for one client."""

    def __init__(self, client: redis.Redis) -> None:
        self._scripts: dict[str, Script] = {
            name: client.register_script(script_source(name)) for name in SCRIPT_NAMES
        }

    def __getitem__(self, name: str) -> Script:
        return self._scripts[name]
