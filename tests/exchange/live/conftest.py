"""Fixtures for the live venue client, always pointed at a paper venue (never a real host)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from polymarket._internal.wallet import derive_beacon_deposit_wallet_address

from exchange.eip712 import MAINNET, Wallet
from exchange.live import LiveVenue
from tests.exchange.conftest import TestClient

LiveFactory = Callable[..., LiveVenue]


@pytest.fixture
def account() -> LocalAccount:
    """A throwaway key, made for this test only."""
    created: LocalAccount = Account.create()
    return created


def deposit_wallet(account: LocalAccount) -> Wallet:
    """The account's deposit wallet (POLY_1271), as the SDK derives it."""
    address = derive_beacon_deposit_wallet_address(
        account.address, MAINNET.config.wallet_derivation
    )
    return Wallet(account=account, funder=address, wallet_type="DEPOSIT_WALLET")


@pytest.fixture
def make_live(app: FastAPI) -> Iterator[LiveFactory]:
    """LiveVenues on the in-process paper venue; each gets (or derives) its API key by L1."""
    made: list[tuple[TestClient, LiveVenue]] = []

    def build(wallet: Wallet, **options: Any) -> LiveVenue:
        http = TestClient(app, raise_server_exceptions=False)
        http.__enter__()
        venue = LiveVenue("http://testserver", wallet, http=http, **options)
        made.append((http, venue))
        return venue

    yield build
    for http, venue in made:
        venue.close()
        http.__exit__(None, None, None)
