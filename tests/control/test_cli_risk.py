"""`neverblink ctl risk get|set`: typed and validated like config overrides, audited,
written to Redis and control.json (or control.json alone with Redis down)."""

from __future__ import annotations

import json

import redis

from state_store.audit import tail_jsonl
from state_store.desired import read_control_file
from state_store.desired_redis import read_redis
from state_store.keys import Keys
from state_store.settings import Settings
from state_store.status import RunnerStatus, heartbeat
from tests.control.test_cli_ctl import ctl


def test_risk_set_types_values_and_get_shows_them_in_force(
    settings: Settings, real_redis: redis.Redis
) -> None:
    done = ctl(settings, "risk", "set", "bot.max_shares=200", "alpha.max_open_orders=4")
    assert done.exit_code == 0, done.output
    assert "written to redis + control.json" in done.output
    state = read_redis(real_redis, Keys(settings.bot)).state
    assert state is not None and state.risk == {
        "bot": {"max_shares": 200.0},
        "alpha": {"max_open_orders": 4},
    }
    on_file = read_control_file(settings.control_file)
    assert on_file is not None and on_file.risk == state.risk
    assert [e.command for e in tail_jsonl(settings.audit_file)] == ["risk_set"]
    got = json.loads(ctl(settings, "risk", "get", "--json").output)
    assert got["limits"]["bot"]["max_shares"] == 200.0
    assert got["limits"]["alpha"] == {  # a strategy's limits default to the bot's
        "max_shares": 200.0, "max_notional": 100.0, "max_open_orders": 4,
        "max_daily_loss": 50.0,
    }  # fmt: skip
    assert got["limits"]["beta"]["max_open_orders"] == 20  # the default
    table = ctl(settings, "risk", "get")
    assert table.exit_code == 0 and "max_daily_loss" in table.output


def test_bad_limits_are_refused_and_change_nothing(settings: Settings) -> None:
    for bad in (
        "bot.max_shares=lots", "bot.max_open_orders=2.5", "bot.max_shares=-1",
        "bot.nope=1", "gamma.max_shares=1", "bot.max_daily_loss=inf",
    ):  # fmt: skip
        result = ctl(settings, "risk", "set", bad)
        assert result.exit_code == 1, (bad, result.output)
        assert "refused" in result.output
    assert ctl(settings, "risk", "set", "max_shares=1").exit_code == 2
    assert ctl(settings, "risk", "set").exit_code == 2
    assert not settings.control_file.exists()


def test_risk_set_with_redis_down_writes_control_json(down_settings: Settings) -> None:
    done = ctl(down_settings, "risk", "set", "bot.max_notional=10")
    assert done.exit_code == 0, done.output
    on_file = read_control_file(down_settings.control_file)
    assert on_file is not None and on_file.risk == {"bot": {"max_notional": 10.0}}


def test_status_shows_the_limits_set_and_each_runners_refusals(
    settings: Settings, real_redis: redis.Redis
) -> None:
    ctl(settings, "risk", "set", "bot.max_shares=7")
    section = RunnerStatus(
        replica="r1", pid=1, tick=3, heartbeat=1.0,
        risk_refused={"bot.max_shares": 3}, risk_day_pnl={"bot": "-1.5"},
        risk_breached=["bot"],
    )  # fmt: skip
    heartbeat(real_redis, Keys(settings.bot), "r1", section, 60_000)
    status = ctl(settings, "status")
    assert status.exit_code == 0, status.output
    text = " ".join(status.output.split())
    assert "Risk limits set" in text and "max_shares" in text
    as_json = json.loads(ctl(settings, "status", "--json").output)
    row = as_json["runners"][0]
    assert row["risk_refused"] == {"bot.max_shares": 3} and row["risk_breached"] == ["bot"]
    assert as_json["control"]["risk"] == {"bot": {"max_shares": 7.0}}
    risk = json.loads(ctl(settings, "risk", "get", "--json").output)
    assert risk["refused"] == {"bot.max_shares": 3} and risk["breached"] == ["bot"]
    assert risk["day_pnl"] == {"bot": "-1.5"}
