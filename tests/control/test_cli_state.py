from __future__ import annotations

import json
from decimal import Decimal

import redis
from click.testing import CliRunner

from control.cli import main
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
    assert "Positions" in result.output and "btc-updown-5m" in result.output


def test_state_of_another_bot_is_empty(real_redis: redis.Redis, redis_url: str) -> None:
    seed(real_redis)
    result = CliRunner().invoke(main, ["state", "--json", "--redis-url", redis_url, "--bot", "b2"])
    assert json.loads(result.output)["positions"] == []
