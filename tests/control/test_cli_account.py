"""`neverblink account [init]` against the in-process paper venue, with a throwaway key:
what it shows, what it stores (0600), and that no output carries the key or the secret."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import redis
from click.testing import CliRunner
from eth_account import Account
from eth_account.signers.local import LocalAccount
from starlette.testclient import TestClient

import exchange.factory
from control.cli import main
from exchange.live.credentials import load_credentials
from exchange.live.keys import KEY_ENV, KEY_FILE_ENV
from exchange.paper.app import create_app
from exchange.paper.config import PaperConfig

CLOB = "http://paper.test"


@pytest.fixture
def paper_http(real_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every httpx.Client the venue factory makes talks to the in-process paper venue."""
    app = create_app(PaperConfig(redis=real_redis, name="paper", seed=7, window_seconds=30))
    with TestClient(app):

        def routed(*args: Any, **kwargs: Any) -> httpx.Client:
            return TestClient(app)  # the app is started above; each client is closed

        monkeypatch.setattr(exchange.factory, "httpx", SimpleNamespace(Client=routed))
        yield


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> LocalAccount:
    made: LocalAccount = Account.create()
    monkeypatch.setenv(KEY_ENV, made.key.hex())
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    return made


def invoke(home: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["account", *args, "--home", str(home)])
    assert result.exit_code == 0, result.output
    return result.output


def test_init_stores_credentials_0600_and_account_shows_the_account(
    paper_http: None, key: LocalAccount, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "home"
    outputs = [invoke(home, "init", "--clob-url", CLOB)]
    path = home / "api_credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    creds = load_credentials(path)
    assert creds is not None and creds.address == key.address
    outputs.append(invoke(home, "--clob-url", CLOB, "--json"))
    report = json.loads(outputs[-1])
    assert report["address"] == key.address and report["funder"] == key.address
    assert report["signature_type"] == 0 and report["key_status"].startswith("ok")
    assert report["credentials"].startswith(f"api key {creds.api_key}")
    assert float(report["pusd_balance"]) > 0 and report["allowances"]
    outputs.append(invoke(home, "--clob-url", CLOB))  # the text form
    assert key.address in outputs[-1]
    outputs.append(invoke(home))  # offline: no --clob-url, no balance
    assert "pusd_balance" not in outputs[-1] and key.address in outputs[-1]
    everything = "\n".join(outputs) + caplog.text
    secrets = (key.key.hex(), key.key.hex().removeprefix("0x"), creds.secret, creds.passphrase)
    for secret in secrets:
        assert secret not in everything


def test_account_without_a_key_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    report = json.loads(invoke(tmp_path, "--json"))
    assert report["key_status"].startswith("unusable: no signing key")


def test_a_key_file_others_can_read_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = Account.create()
    key_file = tmp_path / "key"
    key_file.write_text(made.key.hex())
    key_file.chmod(0o644)
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    result = CliRunner().invoke(
        main, ["account", "init", "--clob-url", CLOB, "--home", str(tmp_path)]
    )
    assert result.exit_code == 1 and "readable by others" in result.output
    assert made.key.hex().removeprefix("0x") not in result.output
