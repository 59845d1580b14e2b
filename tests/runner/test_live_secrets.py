"""A live runner (V2 signatures, L2 auth, throwaway key) trades on the paper venue and no
output shows its private key or API secret: logs, status.json, the runner's Redis status,
the audit log, `ctl status` and Mission Control's /api/status."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from control.api import ApiConfig, create_app
from control.cli import main
from exchange.live import LiveVenue
from runner.tick import run_tick
from tests.runner.conftest import RuntimeFactory
from tests.runner.test_tick import only_always

TOKEN = "test-token-0123456789abcdef"


@pytest.mark.parametrize("venue", ["live"], indirect=True)
def test_no_output_carries_the_key_or_the_api_secret(
    make_runtime: RuntimeFactory,
    strategies_dir: Path,
    venue: LiveVenue,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    only_always(strategies_dir)
    rt = make_runtime()
    for _ in range(4):
        run_tick(rt)
    assert rt.store.markets() and any(rt.store.market_orders(m) for m in rt.store.markets())
    home = rt.settings.home
    outputs = [caplog.text, rt.settings.status_file.read_text()]
    outputs += [str(rt.client.hgetall(rt.store.keys.runner("r1")))]
    outputs += [str(rt.client.xrange(rt.store.keys.audit))]
    if rt.settings.audit_file.exists():
        outputs.append(rt.settings.audit_file.read_text())
    ctl = CliRunner().invoke(
        main, ["ctl", "status", "--home", str(home), "--redis-url", redis_url,
               "--strategies", str(strategies_dir)],
    )  # fmt: skip
    assert ctl.exit_code == 0, ctl.output
    outputs.append(ctl.output)
    app = create_app(rt.settings, ApiConfig(token=TOKEN))
    try:
        with TestClient(app) as api:
            reply = api.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
            assert reply.status_code == 200
            outputs.append(reply.text)
    finally:
        app.state.service.close()
    everything = "\n".join(outputs)
    key = venue.wallet.account.key.hex()
    for secret in (key, key.removeprefix("0x"), venue.credentials.secret,
                   venue.credentials.passphrase):  # fmt: skip
        assert secret not in everything
