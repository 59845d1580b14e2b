"""Read-only reports for `ctl status` and `ctl config get` (plain dicts, JSON-ready).

With Redis up: runner hashes `nb:{B}:runner:*` (replicas from `nb:{B}:runners`),
positions and pending orders from the store, reloads from the manifest stream,
recent audit entries from the audit stream. With Redis down: status.json
(runner sections and recent reloads) and audit.jsonl; positions and orders
are then unknown (None), never guessed.
"""

from __future__ import annotations

import dataclasses
import json
import time
from decimal import Decimal
from typing import Any, cast

import redis

from control.commands import Refused
from control.params import Catalog
from runner.manifest import recent
from state_store.audit import read_stream, tail_jsonl
from state_store.codec import plain
from state_store.desired import DesiredState
from state_store.desired_file import read_file
from state_store.desired_redis import read_redis
from state_store.files import read_json
from state_store.keys import Keys
from state_store.settings import Settings
from state_store.store import Store

RECENT = 10


def config_report(
    state: DesiredState, catalog: Catalog, strategy: str | None, plane: str, notes: list[str]
) -> dict[str, Any]:
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
        strategies[name] = {
            "defaults": defaults,
            "overrides": overrides,
            "effective": {**defaults, **overrides},
            "unknown_overrides": sorted(set(overrides) - set(defaults)),
        }
    return {
        "version": state.version,
        "plane": plane,
        "strategies": strategies,
        "orphan_overrides": sorted(set(state.config) - set(catalog.params)),
        "problems": [*catalog.problems, *notes],
    }


def control_block(state: DesiredState, **sides: Any) -> dict[str, Any]:
    return {**state.to_file(), "entries_allowed": state.entries_allowed, **sides}


def redis_status(
    client: redis.Redis, settings: Settings, state: DesiredState, notes: list[str]
) -> dict[str, Any]:
    keys = Keys(settings.bot)
    store = Store(client, settings.bot)
    red = read_redis(client, keys)
    found = read_file(settings.control_file)
    sections = _file_sections(settings)
    return {
        "bot": settings.bot,
        "plane": "redis",
        "control": control_block(
            state,
            redis_version=red.state.version if red.state else None,
            file_version=found.state.version if found.state else None,
            file_error=found.error,
            in_sync=red.state is not None and red.state == found.state,
        ),
        "runners": redis_runners(client, keys, sections),
        "positions": [_jsonable(p) for p in store.positions()],
        "pending_orders": [_jsonable(o) for o in store.pending_orders()],
        "reloads": recent(client, keys, RECENT),
        "audit": [e.to_json() for e in read_stream(client, keys, RECENT)],
        "notes": notes,
    }


def file_status(
    settings: Settings, state: DesiredState, notes: list[str], redis_problem: str
) -> dict[str, Any]:
    found = read_file(settings.control_file)
    status = read_json(settings.status_file)
    reloads = status.get("reloads") if isinstance(status, dict) else None
    now = time.time()
    runners = [_runner_row(r, s, now) for r, s in sorted(_file_sections(settings).items())]
    return {
        "bot": settings.bot,
        "plane": "file",
        "redis_problem": redis_problem,
        "control": control_block(
            state,
            redis_version=None,
            file_version=found.state.version if found.state else None,
            file_error=found.error,
            in_sync=None,
        ),
        "runners": runners,
        "positions": None,
        "pending_orders": None,
        "reloads": reloads[-RECENT:] if isinstance(reloads, list) else [],
        "audit": [e.to_json() for e in tail_jsonl(settings.audit_file)[-RECENT:]],
        "notes": notes,
    }


def redis_runners(
    client: redis.Redis, keys: Keys, sections: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per replica in the runners set; a replica without a live hash is marked gone."""
    replicas = sorted(str(r) for r in cast(set[Any], client.smembers(keys.runners)))
    pipe = client.pipeline(transaction=False)
    for replica in replicas:
        pipe.hgetall(keys.runner(replica))
    now = time.time()
    rows = []
    for replica, fields in zip(replicas, pipe.execute(), strict=True):
        if fields:
            rows.append(_runner_row(replica, {k: _decode(v) for k, v in fields.items()}, now))
        else:
            last = sections.get(replica, {})
            rows.append({**_runner_row(replica, last, now), "alive": False})
    return rows


def _file_sections(settings: Settings) -> dict[str, dict[str, Any]]:
    status = read_json(settings.status_file)
    runners = status.get("runners") if isinstance(status, dict) else None
    if not isinstance(runners, dict):
        return {}
    return {str(k): v for k, v in runners.items() if isinstance(v, dict)}


def _runner_row(replica: str, section: dict[str, Any], now: float) -> dict[str, Any]:
    raw_code = section.get("code")
    code: dict[str, Any] = raw_code if isinstance(raw_code, dict) else {}
    heartbeat = section.get("heartbeat")
    age = round(now - heartbeat, 1) if isinstance(heartbeat, int | float) else None
    return {
        "replica": replica,
        "alive": bool(section) and not section.get("stopped", False),
        "pid": section.get("pid"),
        "tick": section.get("tick"),
        "heartbeat_age_s": age,
        "paused": section.get("paused"),
        "degraded": section.get("degraded"),
        "control_error": section.get("control_error") or "",
        "operational_error": section.get("operational_error") or "",
        "operational_error_since": section.get("operational_error_since"),
        "venue_unresponsive_since": section.get("venue_unresponsive_since"),
        "venue_error": section.get("venue_error") or "",
        "generation": code.get("generation", ""),
        "git_sha": code.get("git_sha", ""),
        "git_dirty": code.get("git_dirty", False),
        "on_probation": code.get("on_probation", False),
        "markets": section.get("markets") or [],
        "orders_created": section.get("orders_created"),
        "tick_seconds": section.get("tick_seconds") or {},
    }


def _decode(value: str) -> Any:
    """A runner hash field back to its value (runner/status.py writes str() or JSON)."""
    if value in ("True", "False"):
        return value == "True"
    if value == "None":
        return None
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def _jsonable(record: Any) -> dict[str, Any]:
    out = {}
    for key, value in dataclasses.asdict(record).items():
        out[key] = plain(value) if isinstance(value, Decimal) else value
    return out
