"""The options that choose a live venue (`run`, `account`): explicit URL, wallet, no key flag.

The private key is never an option: it comes from $NEVERBLINK_PRIVATE_KEY or the
0600 file $NEVERBLINK_PRIVATE_KEY_FILE (`exchange.live.keys`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from exchange.factory import CREDENTIALS_FILE, WALLET_TYPES, VenueSpec
from state_store.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def live_options(func: F) -> F:
    """Add --clob-url/--wallet-type/--funder (no defaults that reach a real host)."""

    @click.option(
        "--clob-url",
        envvar="NEVERBLINK_CLOB_URL",
        default=None,
        help="CLOB base URL of the live venue (required with --venue live; no default)",
    )
    @click.option(
        "--wallet-type",
        envvar="NEVERBLINK_WALLET_TYPE",
        type=click.Choice(WALLET_TYPES),
        default="EOA",
        show_default=True,
        help="Signature type of the funds: EOA (0), POLY_PROXY (1), GNOSIS_SAFE (2), "
        "DEPOSIT_WALLET (3)",
    )
    @click.option(
        "--funder",
        envvar="NEVERBLINK_FUNDER",
        default=None,
        help="The wallet that holds the pUSD (default: the signing key's address, for EOA)",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any, clob_url: str | None, wallet_type: str, funder: str | None, **kwargs: Any
    ) -> Any:
        kwargs["live"] = (clob_url, wallet_type, funder)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def credentials_path(settings: Settings) -> Path:
    return settings.home / CREDENTIALS_FILE


def live_spec(settings: Settings, live: tuple[str | None, str, str | None]) -> VenueSpec:
    """The live venue's spec; refuses (a usage error) without an explicit CLOB URL."""
    clob_url, wallet_type, funder = live
    if not clob_url:
        raise click.UsageError(
            "--venue live needs --clob-url (or $NEVERBLINK_CLOB_URL): no live URL is assumed"
        )
    if not clob_url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--clob-url")
    return VenueSpec(
        "live", clob_url, wallet_type, funder, credentials_file=credentials_path(settings)
    )
