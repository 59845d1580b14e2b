"""Which venue a runner talks to: the paper CLOB client or the live venue.

Nothing here has a default live URL: `live` needs an explicit CLOB URL and a
signing key (env var or 0600 file, `exchange.live.keys`); the API credentials
come from the 0600 file `neverblink account init` wrote, else they are derived
through L1 at start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from exchange.client import ClobClient
from exchange.venue import Venue

VenueKind = Literal["paper", "live"]
VENUE_KINDS: tuple[VenueKind, ...] = ("paper", "live")
CREDENTIALS_FILE = "api_credentials.json"  # in the home, 0600 (`neverblink account init`)
WALLET_TYPES = ("EOA", "POLY_PROXY", "GNOSIS_SAFE", "DEPOSIT_WALLET")


class VenueConfigError(ValueError):
    """The venue choice is incomplete (e.g. live without a CLOB URL)."""


@dataclass(frozen=True)
class VenueSpec:
    kind: VenueKind = "paper"
    url: str = ""  # paper: the paper venue; live: the CLOB (required, never defaulted)
    wallet_type: str = "EOA"  # EOA, POLY_PROXY, GNOSIS_SAFE or DEPOSIT_WALLET
    funder: str | None = None  # the maker address; None: the signer itself (EOA)
    credentials_file: Path | None = None


def open_venue(
    spec: VenueSpec,
    timeout_s: float,
    *,
    http: httpx.Client | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Venue, Callable[[], None]]:
    """The venue client and its closer. `http`: a transport the caller owns (tests)."""
    if spec.kind == "paper":
        clob = ClobClient(spec.url, timeout=timeout_s, http=http)
        return clob, clob.close
    if spec.kind != "live":
        raise VenueConfigError(f"unknown venue {spec.kind!r}: choose one of {VENUE_KINDS}")
    return _open_live(spec, timeout_s, http, env)


def _open_live(
    spec: VenueSpec, timeout_s: float, http: httpx.Client | None, env: Mapping[str, str] | None
) -> tuple[Venue, Callable[[], None]]:
    from exchange.eip712 import Wallet  # the SDK import costs seconds: live only
    from exchange.live import LiveVenue, load_account
    from exchange.live.credentials import load_credentials

    if not spec.url:
        raise VenueConfigError("live venue: the CLOB URL is required (--clob-url); none is assumed")
    if spec.wallet_type not in WALLET_TYPES:
        raise VenueConfigError(f"wallet type {spec.wallet_type!r}: choose one of {WALLET_TYPES}")
    account = load_account(env)
    wallet = Wallet(
        account=account,
        funder=spec.funder or account.address,
        wallet_type=spec.wallet_type,  # type: ignore[arg-type]  # checked above
    )
    creds = load_credentials(spec.credentials_file) if spec.credentials_file else None
    if creds is not None and creds.address.lower() != wallet.address.lower():
        creds = None  # stored for another key: derive this key's
    owned = http is None
    # the SDK transport sends relative paths through the client it is given: base_url
    client = httpx.Client(base_url=spec.url, timeout=timeout_s) if http is None else http
    try:
        live = LiveVenue(spec.url, wallet, creds, http=client)
    except BaseException:
        if owned:
            client.close()
        raise

    def close() -> None:
        live.close()
        if owned:
            client.close()

    return live, close
