"""Who may start the embedded Redis: the bot's processes do; reading and control commands do not.

`neverblink redis status` says whether it runs, `neverblink redis stop` stops it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from control.cli import main
from state_store.embedded import embedded_running, ensure_embedded_redis, stop_embedded_redis
from tests.state_store.test_embedded import live_servers_of


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "h"
    yield home
    stop_embedded_redis(home)
    assert live_servers_of(home) == []


def cli(home: Path, strategies: Path, *args: str) -> Result:
    flags = ["--home", str(home), "--strategies", str(strategies)]
    return CliRunner().invoke(main, [*args, *flags], env={"NEVERBLINK_REDIS_URL": ""})


def test_control_and_reading_commands_never_start_it(home: Path, strategies: Path) -> None:
    result = cli(home, strategies, "ctl", "config", "set", "alpha.size=7", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["plane"] == "file" and "control commands do not start it" in data["message"]
    for command in (["ctl", "status"], ["ctl", "config", "get"], ["state"]):
        cli(home, strategies, *command)
    assert not embedded_running(home) and live_servers_of(home) == []
    assert json.loads((home / "control.json").read_text())["config"] == {"alpha": {"size": 7}}


def test_redis_status_and_stop(
    home: Path, strategies: Path, caplog: pytest.LogCaptureFixture
) -> None:
    down = cli(home, strategies, "redis", "status")
    assert down.exit_code == 3 and "not running" in down.output
    ensure_embedded_redis(home)  # what `neverblink run` / `demo` do on first use
    assert f"`neverblink redis stop --home {home}` stops it" in caplog.text  # and say so
    up = cli(home, strategies, "redis", "status")
    assert up.exit_code == 0 and "embedded Redis runs" in up.output, up.output
    paused = cli(home, strategies, "ctl", "pause")
    assert "written to redis + control.json" in paused.output, paused.output
    stopped = cli(home, strategies, "redis", "stop")
    assert stopped.exit_code == 0 and "stopped" in stopped.output, stopped.output
    assert not embedded_running(home) and live_servers_of(home) == []
    again = cli(home, strategies, "redis", "stop")
    assert again.exit_code == 0 and "was not running" in again.output
