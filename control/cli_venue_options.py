"""The options that choose a venue: `venue_options` (`run`, `worker`: paper or live) and
`live_options` (`account`, and within `venue_options`): explicit URL, wallet, no key flag.

The private key is never an option: it comes from $NEVERBLINK_PRIVATE_KEY or the
0600 file $NEVERBLINK_PRIVATE_KEY_FILE (`exchange.live.keys`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from exchange.factory import CREDENTIALS_FILE, WALLET_TYPES, VenueSpec
from state_store.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_VENUE_URL = "http://127.0.0.1:8790"  # the paper venue of `neverblink venue`
LiveChoice = tuple[str | None, str, str | None]  # --clob-url, --wallet-type, --funder


@dataclass(frozen=True)
class VenueChoice:
    """What --venue, --venue-url and the live options chose."""

    kind: str  # paper | live
    paper_url: str
    live: LiveChoice

    def spec(self, settings: Settings) -> VenueSpec:
        """The venue's spec; a usage error for live without an explicit CLOB URL."""
        if self.kind == "live":
            return live_spec(settings, self.live)
        return VenueSpec("paper", self.paper_url)


def venue_options(func: F) -> F:
    """Add --venue paper|live, --venue-url (paper) and the live options; the command gets
    them as one `venue: VenueChoice`."""

    @click.option(
        "--venue-url",
        envvar="NEVERBLINK_VENUE_URL",
        default=DEFAULT_VENUE_URL,
        show_default=True,
        help="Paper venue base URL (with --venue paper)",
    )
    @click.option(
        "--venue",
        "venue_kind",
        type=click.Choice(["paper", "live"]),
        default="paper",
        show_default=True,
        help="paper: the paper venue at --venue-url; live: a CLOB V2 at --clob-url, signed orders",
    )
    @live_options
    @functools.wraps(func)
    def wrapper(
        *args: Any, venue_url: str, venue_kind: str, live: LiveChoice, **kwargs: Any
    ) -> Any:
        kwargs["venue"] = VenueChoice(venue_kind, venue_url, live)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


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


def live_spec(settings: Settings, live: LiveChoice) -> VenueSpec:
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
