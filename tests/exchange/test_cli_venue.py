"""`neverblink venue`: options reach the paper venue; nothing is actually served."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from click.testing import CliRunner

import exchange.paper
import state_store.connection
from control.cli import main


def test_venue_command_builds_the_configured_venue(
    monkeypatch: pytest.MonkeyPatch, real_redis: redis.Redis
) -> None:
    served: dict[str, Any] = {}

    def fake_serve(app: Any, host: str, port: int) -> None:
        served.update(app=app, host=host, port=port)

    monkeypatch.setattr(exchange.paper, "serve", fake_serve)
    monkeypatch.setattr(state_store.connection, "connect", lambda settings, **kw: real_redis)
    args = ["venue", "--port", "9123", "--seed", "3", "--speed", "15", "--window-seconds", "20"]
    result = CliRunner().invoke(main, [*args, "--vol", "0.9", "--name", "demo"])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 9123)
    config = served["app"].state.engine.config
    assert (config.name, config.seed, config.speed, config.window_seconds, config.vol) == (
        "demo",
        3,
        15.0,
        20,
        0.9,
    )


def test_venue_command_rejects_bad_options(
    monkeypatch: pytest.MonkeyPatch, real_redis: redis.Redis
) -> None:
    monkeypatch.setattr(state_store.connection, "connect", lambda settings, **kw: real_redis)
    result = CliRunner().invoke(main, ["venue", "--speed", "0"])
    assert result.exit_code == 2 and "speed" in result.output


def test_venue_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["venue", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--seed", "--speed", "--window-seconds", "--vol", "--redis-url"):
        assert option in result.output


def test_default_port_is_the_servers() -> None:
    from control.cli_venue import DEFAULT_PORT
    from exchange.paper.server import DEFAULT_PORT as SERVER_PORT

    assert DEFAULT_PORT == SERVER_PORT
