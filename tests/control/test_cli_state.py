from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import redis
from click.testing import CliRunner

from control.cli import main
from state_store import transitions as t
from state_store.models import Fill, Intent
from state_store.store import Store
from tests.state_store.conftest import make_window


def seed(client: redis.Redis) -> str:
    store = Store(client, "default")
    window = make_window()
    store.open_window(window)
    lease = store.claim_lease(window.market, "r1", 10_000)
    assert lease is not None
    intent = Intent("entry", window.market, "Up", "BUY", Decimal("0.4"), Decimal("10"))
    coid, _ = store.create_order("momentum", intent, window, lease)
    store.apply_fill(Fill("f1", coid, window.market, "Up", "BUY", Decimal("0.4"), Decimal("4")))
    return coid


def test_state_json_lists_windows_positions_and_pending(
    real_redis: redis.Redis, redis_url: str, tmp_path: object
) -> None:
    coid = seed(real_redis)
    result = CliRunner().invoke(main, ["state", "--json", "--redis-url", redis_url])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output)
    assert state["positions"][0]["up_shares"] == "4"
    assert state["pending_orders"][0]["client_order_id"] == coid
    assert state["pending_orders"][0]["status"] == "partially_filled"
    assert state["windows"][0]["status"] == "open"


def test_state_table_is_readable(real_redis: redis.Redis, redis_url: str) -> None:
    seed(real_redis)
    result = CliRunner().invoke(main, ["state", "--redis-url", redis_url])
    assert result.exit_code == 0, result.output
    assert "Open positions" in result.output and "btc 5m 16:00-16:05" in result.output


def settle_one(client: redis.Redis) -> None:
    """A second window, 5 minutes later, with a fill; the first one settled (Up wins)."""
    store = Store(client, "default")
    later = make_window("btc-updown-5m-1764000300", 1764000300.0)
    store.open_window(later)
    lease = store.claim_lease(later.market, "r1", 10_000)
    assert lease is not None
    intent = Intent("entry", later.market, "Down", "BUY", Decimal("0.3"), Decimal("5"))
    coid, _ = store.create_order("pair_arb", intent, later, lease)
    store.apply_fill(Fill("f2", coid, later.market, "Down", "BUY", Decimal("0.3"), Decimal("5")))
    store.close_window("btc-updown-5m-1764000000")
    store.settle_window("btc-updown-5m-1764000000", "Up", "97100")


def test_state_fits_80_columns_and_tells_markets_apart(
    real_redis: redis.Redis, redis_url: str
) -> None:
    seed(real_redis)
    settle_one(real_redis)
    result = CliRunner().invoke(main, ["state", "--redis-url", redis_url], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80, result.output
    assert "…" not in result.output, result.output  # nothing cut
    windows = result.output.split("Open windows")[1].split("Open positions")[0]
    assert "btc 5m 16:05-16:10" in windows  # the open window, by its own times
    assert "16:00-16:05" not in windows  # settled: in the history (--all) only
    assert "1764000" not in result.output  # no raw epochs
    # the first window's position settled today: 4 Up at 0.4 paid 4 -> +2.40
    assert "PnL today (UTC) +2.40 over 1 settled" in result.output
    assert "1 open windows | 1 open positions (cost 1.50) | 1 pending orders" in result.output


def test_state_all_adds_the_settled_history_with_human_times(
    real_redis: redis.Redis, redis_url: str
) -> None:
    seed(real_redis)
    settle_one(real_redis)
    args = ["state", "--all", "--redis-url", redis_url]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    history = result.output.split("Settled windows")[1]
    assert "btc-updown-5m-1764000000" in history and "2025-11-24 16:00-16:05" in history
    assert "Up" in history and "+2.40" in history
    assert max(len(line) for line in result.output.splitlines()) <= 80, result.output


def test_state_json_has_the_summary(real_redis: redis.Redis, redis_url: str) -> None:
    seed(real_redis)
    settle_one(real_redis)
    result = CliRunner().invoke(main, ["state", "--json", "--redis-url", redis_url])
    summary = json.loads(result.output)["summary"]
    assert summary["pnl_today"] == "2.4" and summary["settled_total"] == 1
    assert summary["open_positions"] == 1 and summary["pending_orders"] == 1


def test_state_does_not_start_the_embedded_redis(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = CliRunner().invoke(main, ["state", "--home", str(home)])
    assert result.exit_code == 1
    assert "embedded Redis" in result.output and "not running" in result.output
    assert not (home / "redis" / "redis.sock").exists()


def test_state_of_another_bot_is_empty(real_redis: redis.Redis, redis_url: str) -> None:
    seed(real_redis)
    result = CliRunner().invoke(main, ["state", "--json", "--redis-url", redis_url, "--bot", "b2"])
    assert json.loads(result.output)["positions"] == []


def test_state_shows_strikes_and_unconfirmed_fills(real_redis: redis.Redis, redis_url: str) -> None:
    """The strike and where it came from (or why it is missing); fills whose trade is MATCHED
    but not CONFIRMED are listed (they already count in the position)."""
    store = Store(real_redis, "default")
    coid = seed(real_redis)
    window = make_window()
    store.apply_fill(Fill("f9", coid, window.market, "Up", "BUY", Decimal("0.4"), Decimal("1"),
                          trade_status="MATCHED"))  # fmt: skip
    missing = replace(make_window("btc-updown-5m-1764000300", 1764000300.0), start_price="")
    store.open_window(missing)
    store.run(t.strike_missing(store.keys, missing.market, "stream down at the start"))
    result = CliRunner().invoke(main, ["state", "--redis-url", redis_url], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "97000.5 (venue)" in result.output
    assert "- (stream down at the start)" in result.output
    assert "Unconfirmed fills" in result.output and "MATCHED" in result.output
    as_json = CliRunner().invoke(main, ["state", "--json", "--redis-url", redis_url])
    state = json.loads(as_json.output)
    assert [f["fill_id"] for f in state["unconfirmed_fills"]] == ["f9"]
    by_market = {w["market"]: w for w in state["windows"]}
    assert by_market[missing.market]["strike_missing"] == "stream down at the start"
    assert by_market[window.market]["strike_source"] == "venue"
