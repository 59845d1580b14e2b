"""The private key and the API secret never appear in a log, a repr or an exception message."""

from __future__ import annotations

import base64
import logging
import traceback
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from exchange.auth import ApiCredentials
from exchange.eip712 import Wallet
from exchange.errors import VenueError
from exchange.live import SigningKeyError, load_account
from exchange.live.keys import KEY_ENV, KEY_FILE_ENV
from tests.exchange.helpers import live_window, order
from tests.exchange.live.conftest import LiveFactory, deposit_wallet

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def secrets_of(account: LocalAccount, creds: ApiCredentials) -> list[str]:
    key = account.key.hex().removeprefix("0x")
    return [key, "0x" + key, key.upper(), creds.secret, creds.passphrase]


def exception_texts(exc: BaseException) -> str:
    """Message, repr and the whole chain (causes and contexts), as a traceback prints it."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


def test_no_output_carries_a_secret(
    account: LocalAccount, make_live: LiveFactory, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's and httpx's included
    outputs: list[str] = []
    venue = make_live(Wallet.eoa(account))
    smart = make_live(deposit_wallet(account))
    token = live_window(venue).up_token
    placed = venue.place(order("s-1", token, "BUY", "0.02", "5"))
    smart.place(order("s-2", token, "BUY", "0.02", "5"))
    venue.cancel(placed.order_id)
    venue.heartbeat("")
    outputs += [repr(x) for x in (venue, smart, venue.wallet, smart.wallet, venue.signer)]
    outputs += [str(x) for x in (venue, venue.wallet, venue.credentials)]
    outputs += [repr(venue.credentials), repr(venue.market_meta(token))]

    failures: list[BaseException] = []
    other_secret = base64.urlsafe_b64encode(b"not the venue's secret").decode()
    forged = ApiCredentials(venue.credentials.api_key, other_secret, "x")
    for attempt in (
        lambda: make_live(Wallet.eoa(account), credentials=forged).open_orders(),
        lambda: venue.place(order("bad", "123", "BUY", "0.5", "5")),
        lambda: venue.place(order("fok", token, "BUY", "0.02", "5", "FOK")),
        lambda: load_account({KEY_ENV: account.key.hex()[:-2] + "zz"}),
        lambda: load_account({KEY_FILE_ENV: str(_open_key_file(tmp_path, account))}),
        lambda: load_account({}),
    ):
        with pytest.raises((VenueError, SigningKeyError)) as caught:
            attempt()
        failures.append(caught.value)
    outputs += [exception_texts(exc) for exc in failures]
    outputs.append(caplog.text)
    outputs += [record.getMessage() for record in caplog.records]

    text = "\n".join(outputs)
    assert "Unauthorized" in text and "readable by others" in text  # the failures happened
    for secret in secrets_of(account, venue.credentials):
        assert secret not in text


def _open_key_file(tmp_path: Path, account: LocalAccount) -> Path:
    path = tmp_path / "key"
    path.write_text(account.key.hex())
    path.chmod(0o644)  # group/other may read: refused, without echoing the key
    return path


def test_a_0600_key_file_loads(account: LocalAccount, tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(account.key.hex() + "\n")
    path.chmod(0o600)
    assert load_account({KEY_FILE_ENV: str(path)}).address == account.address
    assert load_account({KEY_ENV: account.key.hex()}).address == account.address
