"""Risk limits: a strategy tries to break each one and the order is refused (real Redis,
the paper venue in-process); the loss limit pauses entries with an audit entry naming it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import redis

from control.service import ControlService
from runner.build import close_runtime
from runner.runtime import Runtime
from runner.tick import run_tick
from state_store.audit import AuditEntry, tail_jsonl
from state_store.desired import DesiredState
from state_store.desired_redis import read_redis
from tests.runner.conftest import RuntimeFactory
from tests.runner.strategy_sources import RESTING_BUYS, ROUND_TRIPS


def only(strategies_dir: Path, **sources: str) -> None:
    for path in strategies_dir.glob("*.py"):
        path.unlink()
    for name, source in sources.items():
        (strategies_dir / f"{name}.py").write_text(source)


def set_limits(client: redis.Redis, rt: Runtime, risk: dict[str, dict[str, Any]]) -> None:
    state = DesiredState(version=1, risk=cast(Any, risk))
    client.hset(rt.store.keys.control, mapping=cast(Any, state.to_redis()))


def open_buys(rt: Runtime) -> list[Any]:
    return [o for o in rt.store.pending_orders() if o.side == "BUY"]


def venue_open(rt: Runtime) -> int:
    return len(rt.venue.open_orders())


def tick_until_breached(rt: Runtime, most: int = 100) -> None:  # a loaded machine: more
    for _ in range(most):
        run_tick(rt)
        if rt.risk.breached:
            return
    raise AssertionError(f"no loss limit breached in {most} ticks: {rt.risk.day_pnl}")


def test_max_open_orders_refuses_the_order_past_it(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    only(strategies_dir, rester=RESTING_BUYS)
    rt = make_runtime()
    set_limits(real_redis, rt, {"bot": {"max_open_orders": 2}})
    for _ in range(3):
        run_tick(rt)
    assert len(open_buys(rt)) == 2 and venue_open(rt) == 2  # 3 asked per market, every tick
    assert rt.risk.refused["bot.max_open_orders"] >= 3
    section = json.loads(rt.settings.status_file.read_text())["runners"]["r1"]
    assert section["risk_refused"]["bot.max_open_orders"] == rt.risk.refused["bot.max_open_orders"]


def test_max_shares_counts_open_buys_per_market_and_outcome(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    only(strategies_dir, rester=RESTING_BUYS)
    rt = make_runtime()
    set_limits(real_redis, rt, {"rester": {"max_shares": 12}})  # two orders of 5, not three
    run_tick(rt)
    by_market: dict[str, Decimal] = {}
    for order in open_buys(rt):
        by_market[order.market] = by_market.get(order.market, Decimal(0)) + order.size
    assert by_market and set(by_market.values()) == {Decimal(10)}
    assert rt.risk.refused == {"rester.max_shares": len(by_market)}


def test_max_notional_per_window_refuses_the_order_past_it(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    only(strategies_dir, rester=RESTING_BUYS)
    rt = make_runtime()
    set_limits(real_redis, rt, {"bot": {"max_notional": 0.1}})  # 0.05 per order: two fit
    run_tick(rt)
    run_tick(rt)
    markets = {o.market for o in open_buys(rt)}
    assert markets and len(open_buys(rt)) == 2 * len(markets)
    assert rt.risk.refused["bot.max_notional"] >= 2 * len(markets)


def test_a_bot_limit_holds_across_two_replicas(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    """Each create checks the bot's orders in Lua, atomically: replicas trading different
    markets of one bot never pass a bot limit together."""
    only(strategies_dir, rester=RESTING_BUYS)
    r1, r2 = make_runtime("r1"), make_runtime("r2")
    set_limits(real_redis, r1, {"bot": {"max_open_orders": 4}})
    for _ in range(4):
        run_tick(r1)
        run_tick(r2)
    assert len(open_buys(r1)) == 4 and venue_open(r1) == 4
    assert sum(r.risk.refused.get("bot.max_open_orders", 0) for r in (r1, r2)) > 0


def test_the_loss_limit_refuses_entries_and_pauses_with_an_audit_entry(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    only(strategies_dir, tripper=ROUND_TRIPS)
    rt = make_runtime()
    set_limits(real_redis, rt, {"bot": {"max_daily_loss": 0.01}})
    tick_until_breached(rt)  # buys at the ask (marked below it), sells at the bid
    created = len([o for m in rt.store.markets() for o in rt.store.market_orders(m)])
    # the strategy's limit defaults to the bot's: both are past it, one pause covers them
    assert rt.risk.refused["bot.max_daily_loss"] >= 1 and rt.risk.breached == ["bot", "tripper"]
    assert Decimal(rt.risk.day_pnl["bot"]) < Decimal("-0.01")
    state = read_redis(real_redis, rt.store.keys).state
    assert state is not None and state.paused and state.risk == {"bot": {"max_daily_loss": 0.01}}
    entries: Any = real_redis.xrange(rt.store.keys.audit)
    paused = [AuditEntry.from_stream(fields) for _, fields in entries]
    assert [e.command for e in paused] == ["risk_pause"]
    assert paused[0].args["limit"] == "bot.max_daily_loss" and paused[0].who == "runner:r1"
    assert paused[0].args["limits"] == ["bot.max_daily_loss", "tripper.max_daily_loss"]
    assert [e.command for e in tail_jsonl(rt.settings.audit_file)] == ["risk_pause"]
    assert json.loads(rt.settings.control_file.read_text())["paused"] is True
    report = run_tick(rt)
    assert report.paused and report.created == 0
    after = len([o for m in rt.store.markets() for o in rt.store.market_orders(m)])
    assert after == created


def test_a_resumed_bot_stays_refused_while_past_its_loss_without_a_second_pause(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    only(strategies_dir, tripper=ROUND_TRIPS)
    rt = make_runtime()
    set_limits(real_redis, rt, {"tripper": {"max_daily_loss": 0}})
    tick_until_breached(rt)
    state = read_redis(real_redis, rt.store.keys).state
    assert state is not None and state.paused
    resumed = state.model_copy(update={"paused": False, "version": state.version + 1})
    real_redis.hset(rt.store.keys.control, mapping=cast(Any, resumed.to_redis()))
    before = rt.risk.refused["tripper.max_daily_loss"]
    run_tick(rt)
    assert not run_tick(rt).paused  # paused once a day per limit: the resume holds
    assert rt.risk.refused["tripper.max_daily_loss"] > before  # its entries stay refused
    entries: Any = real_redis.xrange(rt.store.keys.audit)
    assert [AuditEntry.from_stream(f).command for _, f in entries] == ["risk_pause"]


def test_limits_set_by_ctl_survive_a_restart_and_a_lost_control_hash(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    """Set like `neverblink ctl risk set rester.max_open_orders=1`: in the desired state,
    so a new runner process obeys it, even after Redis lost its copy (control.json's)."""
    only(strategies_dir, rester=RESTING_BUYS)
    first = make_runtime()
    service = ControlService(first.settings)
    try:
        service.apply("risk_set", {"values": {"rester": {"max_open_orders": "1"}}})
    finally:
        service.close()
    run_tick(first)
    assert len(open_buys(first)) == 1 and first.risk.refused["rester.max_open_orders"] >= 1
    close_runtime(first)
    real_redis.delete(first.store.keys.control)  # Redis lost it: control.json has it
    second = make_runtime()
    run_tick(second)
    assert second.risk.refused["rester.max_open_orders"] >= 1
    assert len(open_buys(second)) == 1 and venue_open(second) == 1
    state = read_redis(real_redis, second.store.keys).state
    assert state is not None and state.risk == {"rester": {"max_open_orders": 1}}
