"""The venue spec as rq job arguments: plain strings, no secret, and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.factory import VenueConfigError, VenueSpec


def test_a_spec_survives_plain_data_and_names_no_secret() -> None:
    spec = VenueSpec("live", "http://clob.test", "DEPOSIT_WALLET", "0xF00", Path("/h/creds.json"))
    plain = spec.plain()
    assert all(isinstance(v, str) for v in plain.values())
    assert set(plain) == {"kind", "url", "wallet_type", "funder", "credentials_file"}
    assert VenueSpec.from_plain(plain) == spec
    assert VenueSpec.from_plain(VenueSpec("paper", "http://p").plain()) == VenueSpec(
        "paper", "http://p"
    )


def test_a_bare_url_is_the_paper_venue_of_older_jobs() -> None:
    assert VenueSpec.from_plain("http://127.0.0.1:8790") == VenueSpec(
        "paper", "http://127.0.0.1:8790"
    )


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(VenueConfigError, match="unknown venue"):
        VenueSpec.from_plain({"kind": "mainnet", "url": "http://x"})
