"""Read-only reports for `ctl status` and `ctl config get` (control.reports models).

With Redis up: runner hashes `nb:{B}:runner:*` (replicas from `nb:{B}:runners`),
positions and pending orders from the store, reloads from the manifest stream,
recent audit entries from the audit stream. With Redis down: status.json
(runner sections and recent reloads) and audit.jsonl; positions and orders
are then unknown (None), never guessed.
"""

from __future__ import annotations

import time
from typing import Any, cast

import redis

from control.commands import Refused
from control.params import Catalog
from control.reports import (
    ConfigReport,
    ControlBlock,
    OrderRow,
    Plane,
    PositionRow,
    RiskReport,
    RunnerRow,
    StatusReport,
    StrategyParams,
)
from state_store import risk
from state_store.audit import read_stream, tail_jsonl
from state_store.desired import DesiredState
from state_store.desired_file import read_file
from state_store.desired_redis import read_redis
from state_store.keys import Keys
from state_store.manifest import recent
from state_store.settings import Settings
from state_store.status import RunnerStatus, read_status_file, runner_of
from state_store.store import Store

RECENT = 10


def config_report(
    state: DesiredState, catalog: Catalog, strategy: str | None, plane: Plane, notes: list[str]
) -> ConfigReport:
    """Defaults, overrides and effective values per strategy; Refused for an unknown one."""
    names = catalog.strategies
    if strategy is not None:
        if strategy not in catalog.params:
            known = ", ".join(names) or "none"
            where = catalog.directory
            raise Refused(f"unknown strategy {strategy!r} in {where}; strategies: {known}")
        names = [strategy]
    strategies = {}
    for name in names:
        defaults = dict(catalog.params[name])
        overrides = dict(state.config.get(name, {}))
        strategies[name] = StrategyParams(
            defaults=defaults,
            overrides=overrides,
            effective={**defaults, **overrides},
            unknown_overrides=sorted(set(overrides) - set(defaults)),
        )
    return ConfigReport(
        version=state.version,
        plane=plane,
        strategies=strategies,
        orphan_overrides=sorted(set(state.config) - set(catalog.params)),
        problems=[*catalog.problems, *notes],
    )


def redis_status(
    client: redis.Redis, settings: Settings, state: DesiredState, notes: list[str]
) -> StatusReport:
    keys = Keys(settings.bot)
    store = Store(client, settings.bot)
    red = read_redis(client, keys)
    found = read_file(settings.control_file)
    sections = read_status_file(settings.status_file).runners
    return StatusReport(
        bot=settings.bot,
        plane="redis",
        control=ControlBlock.of(
            state,
            redis_version=red.state.version if red.state else None,
            file_version=found.state.version if found.state else None,
            file_error=found.error,
            in_sync=red.state is not None and red.state == found.state,
        ),
        runners=redis_runners(client, keys, sections),
        positions=[PositionRow.of(p) for p in store.positions()],
        pending_orders=[OrderRow.of(o) for o in store.pending_orders()],
        reloads=recent(client, keys, RECENT),
        audit=read_stream(client, keys, RECENT),
        notes=notes,
    )


def file_status(
    settings: Settings, state: DesiredState, notes: list[str], redis_problem: str
) -> StatusReport:
    found = read_file(settings.control_file)
    status = read_status_file(settings.status_file)
    now = time.time()
    return StatusReport(
        bot=settings.bot,
        plane="file",
        redis_problem=redis_problem,
        control=ControlBlock.of(
            state,
            redis_version=None,
            file_version=found.state.version if found.state else None,
            file_error=found.error,
            in_sync=None,
        ),
        runners=[RunnerRow.of(r, s, now) for r, s in sorted(status.runners.items())],
        positions=None,
        pending_orders=None,
        reloads=status.reloads[-RECENT:],
        audit=tail_jsonl(settings.audit_file)[-RECENT:],
        notes=notes,
    )


def redis_runners(
    client: redis.Redis, keys: Keys, sections: dict[str, RunnerStatus]
) -> list[RunnerRow]:
    """One row per replica in the runners set; a replica without a live hash is marked gone."""
    replicas = sorted(str(r) for r in cast(set[Any], client.smembers(keys.runners)))
    pipe = client.pipeline(transaction=False)
    for replica in replicas:
        pipe.hgetall(keys.runner(replica))
    now = time.time()
    rows = []
    for replica, fields in zip(replicas, pipe.execute(), strict=True):
        live = runner_of(fields)
        if live is not None:
            rows.append(RunnerRow.of(replica, live, now))
        else:
            rows.append(RunnerRow.of(replica, sections.get(replica), now, alive=False))
    return rows


def risk_report(
    state: DesiredState, catalog: Catalog, plane: Plane, notes: list[str], runners: list[RunnerRow]
) -> RiskReport:
    """The limits in force for the bot, every strategy of the folder and every scope set,
    with the refusals and the day's PnL the live runners report."""
    scopes = [risk.BOT, *sorted({*catalog.params, *state.risk} - {risk.BOT})]
    live = [r for r in runners if r.alive]
    refused: dict[str, int] = {}
    for row in live:
        for name, n in row.risk_refused.items():
            refused[name] = refused.get(name, 0) + n
    freshest = min(live, key=lambda r: r.heartbeat_age_s or 0.0, default=None)
    return RiskReport(
        version=state.version,
        plane=plane,
        defaults=dict(risk.defaults()),
        overrides={scope: dict(values) for scope, values in state.risk.items()},
        limits={scope: dict(risk.in_force(state.risk, scope)) for scope in scopes},
        descriptions=dict(risk.HELP),
        refused=refused,
        day_pnl=freshest.risk_day_pnl if freshest is not None else {},
        breached=sorted({scope for row in live for scope in row.risk_breached}),
        problems=[*catalog.problems, *notes],
    )
