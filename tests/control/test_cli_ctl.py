"""`neverblink ctl ...`: messages that name the plane, exit codes 0/1/2, --json, status tables."""

from __future__ import annotations

import json
import time

import pytest
import redis
from click.testing import CliRunner, Result

from control.cli import main
from state_store.keys import Keys
from state_store.manifest import ManifestEntry, publish
from state_store.settings import Settings
from state_store.status import (
    BookSources,
    RunnerCode,
    RunnerStatus,
    heartbeat,
    write_status_file,
)
from tests.control.conftest import dead_url
from tests.control.test_cli_state import seed


def ctl(settings: Settings, *args: str) -> Result:
    flags = ["--home", str(settings.home), "--redis-url", settings.redis_url or ""]
    flags += ["--bot", settings.bot, "--strategies", str(settings.strategies)]
    return CliRunner().invoke(main, ["ctl", *args, *flags])


def test_commands_say_which_plane_they_wrote(settings: Settings, down_settings: Settings) -> None:
    up = ctl(settings, "pause")
    assert up.exit_code == 0, up.output
    assert (
        up.output.startswith("paused")
        and "(version 1, written to redis + control.json)" in up.output
    )
    down = ctl(down_settings, "pause")
    assert down.exit_code == 0, down.output
    assert "Redis unreachable: wrote control.json only" in down.output
    assert "runners obey it at their next tick" in down.output


def test_every_command_with_redis_up_and_down(settings: Settings, down_settings: Settings) -> None:
    commands = [
        ["pause"],
        ["resume"],
        ["reload"],
        ["reload", "alpha"],
        ["config", "set", "alpha.size=9", "beta.limit=2"],
        ["flatten"],
        ["kill"],
    ]
    for home in (settings, down_settings):
        for i, command in enumerate(commands, start=1):
            result = ctl(home, *command, "--json")
            assert result.exit_code == 0, result.output
            data = json.loads(result.stdout)
            assert data["version"] == i
            assert data["plane"] == ("redis" if home is settings else "file")
        state = json.loads(home.control_file.read_text())
        assert state["killed"] and state["config"] == {"alpha": {"size": 9}, "beta": {"limit": 2}}
        got = ctl(home, "config", "get", "alpha", "--json")
        assert (
            got.exit_code == 0
            and json.loads(got.output)["strategies"]["alpha"]["effective"]["size"] == 9
        )


def test_exit_codes(settings: Settings) -> None:
    refused = ctl(settings, "config", "set", "alpha.size=big")
    assert refused.exit_code == 1
    assert "refused: alpha.size: expected an int, got 'big'" in refused.output
    assert ctl(settings, "config", "set", "alpha.nope=1").exit_code == 1
    assert ctl(settings, "config", "set", "nope.size=1").exit_code == 1
    assert ctl(settings, "reload", "nope").exit_code == 1
    assert ctl(settings, "config", "get", "nope").exit_code == 1
    assert ctl(settings, "config", "set", "alpha.size").exit_code == 2
    assert ctl(settings, "config", "set").exit_code == 2
    assert ctl(settings, "explode").exit_code == 2
    assert ctl(settings, "pause", "now").exit_code == 2


def test_invalid_control_json_with_redis_down_exits_1_and_keeps_the_file(
    down_settings: Settings,
) -> None:
    down_settings.home.mkdir(parents=True)
    down_settings.control_file.write_text('{"version": 3, "paused": tr')
    result = ctl(down_settings, "pause")
    assert result.exit_code == 1
    assert "refused:" in result.output and "nothing was written" in result.output
    assert down_settings.control_file.read_text() == '{"version": 3, "paused": tr'


def test_invalid_control_json_with_redis_up_warns(settings: Settings) -> None:
    settings.home.mkdir(parents=True)
    settings.control_file.write_text("{oops")
    result = ctl(settings, "pause")
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "rejected-" in result.stderr
    assert "written to redis + control.json" in result.stdout


def seed_runner(client: redis.Redis, settings: Settings) -> None:
    keys = Keys(settings.bot)
    section = RunnerStatus(
        replica="r1",
        pid=4242,
        tick=17,
        heartbeat=time.time(),
        code=RunnerCode(generation="abc123def456", git_sha="0123456789ab", git_dirty=True),
        markets=["btc-updown-5m-1764000000"],
        books=BookSources(market_stream="down", stream=1, rest=2, stale=1, entries_refused=3),
    )
    heartbeat(client, keys, "r1", section, 60_000)
    client.sadd(keys.runners, "r0")  # a replica that stopped: its hash expired
    entry = ManifestEntry(
        ts=time.time(),
        kind="live",
        ok=True,
        generation="abc123def456",
        modules=("alpha",),
        git_sha="0123",
        replica="r1",
        tick=3,
    )
    publish(client, keys, [entry])
    write_status_file(settings.status_file, "r1", section, [entry])


def test_status_with_redis_up(settings: Settings, real_redis: redis.Redis) -> None:
    settings = Settings(settings.home, settings.redis_url, "default", settings.strategies)
    coid = seed(real_redis)
    seed_runner(real_redis, settings)
    assert ctl(settings, "pause").exit_code == 0
    result = ctl(settings, "status", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["plane"] == "redis" and status["control"]["paused"] is True
    r0, r1 = status["runners"]
    assert (r0["replica"], r0["alive"]) == ("r0", False)
    assert r1["alive"] and r1["tick"] == 17 and r1["pid"] == 4242
    assert r1["generation"] == "abc123def456" and r1["git_dirty"] is True
    assert r1["books"]["market_stream"] == "down" and r1["books"]["stale"] == 1
    assert status["positions"][0]["up_shares"] == "4"
    assert status["pending_orders"][0]["client_order_id"] == coid
    assert status["reloads"][0]["kind"] == "live"
    table = ctl(settings, "status")
    assert table.exit_code == 0, table.output
    expected = ["control version 1", "redis, in sync", "Runners", "abc123def456", "Positions"]
    expected += ["Pending orders", "Recent reloads", "Recent control changes", "pause"]
    for text in expected:
        assert text in table.output, text
    assert "books: STALE" in table.output  # the data column
    line = "books of r1: 1 from the stream, 2 over REST, 1 stale (market stream down)"
    assert line in " ".join(table.output.split()), table.output
    assert "3 entries refused on stale books" in " ".join(table.output.split())


def test_status_with_redis_down(settings: Settings, real_redis: redis.Redis) -> None:
    seed_runner(real_redis, settings)
    assert ctl(settings, "kill").exit_code == 0
    down = Settings(settings.home, dead_url(), settings.bot, settings.strategies)
    result = ctl(down, "status", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["plane"] == "file" and status["control"]["killed"] is True
    assert status["positions"] is None and status["runners"][0]["replica"] == "r1"
    assert status["reloads"][0]["kind"] == "live"
    table = ctl(down, "status")
    assert (
        "Redis unreachable" in table.output and "unknown while Redis is unreachable" in table.output
    )


def test_config_get_table(settings: Settings) -> None:
    ctl(settings, "config", "set", "alpha.mode=early")
    result = ctl(settings, "config", "get")
    assert result.exit_code == 0
    assert "alpha" in result.output and "early" in result.output and "beta" in result.output


def test_settings_from_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEVERBLINK_HOME", str(settings.home))
    monkeypatch.setenv("NEVERBLINK_REDIS_URL", settings.redis_url or "")
    monkeypatch.setenv("NEVERBLINK_BOT", settings.bot)
    monkeypatch.setenv("NEVERBLINK_STRATEGIES", str(settings.strategies))
    result = CliRunner().invoke(main, ["ctl", "flatten"])
    assert result.exit_code == 0, result.output
    assert "written to redis + control.json" in result.output
    assert settings.control_file.exists()


def test_status_before_any_command_says_so(settings: Settings) -> None:
    fresh = ctl(settings, "status")
    assert fresh.exit_code == 0, fresh.output
    assert "no command given yet: the default state" in fresh.output
    assert "None" not in fresh.output.split("\n")[0]
    ctl(settings, "pause")
    assert "redis, in sync" in ctl(settings, "status").output
