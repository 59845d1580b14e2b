"""Step 1 of a tick: the desired state in force, from Redis and control.json.

The higher version wins. A control.json that cannot be used (bad JSON, wrong
types, truncated, too big, a version that leaves commands no room, config
overrides the loaded strategies' PARAMS do not allow) is reported in status and
ignored: the last valid state stays in force. With Redis down the file alone decides.
"""

from __future__ import annotations

import logging
from typing import cast

from runner.runtime import Runtime
from state_store.desired import DesiredState, InvalidControlFile, newer, read_control_file
from state_store.param_spec import config_problems

log = logging.getLogger(__name__)


def read_redis_desired(rt: Runtime) -> DesiredState | None:
    fields = cast(dict[str, str], rt.client.hgetall(rt.store.keys.control))
    if not fields:
        return None
    try:
        return DesiredState.from_redis(fields)
    except ValueError as exc:
        rt.control_error = f"redis control hash invalid: {exc}"[:300]
        return None


def read_desired(rt: Runtime, redis_up: bool = True) -> DesiredState:
    rt.control_error = ""
    try:
        from_file = read_control_file(rt.settings.control_file)
    except InvalidControlFile as exc:
        rt.control_error = str(exc)
        from_file = None
        if rt.last_desired is not None:
            from_file = rt.last_desired
    from_redis = read_redis_desired(rt) if redis_up else None
    if from_file is not None and from_file is not rt.last_desired:
        wins = from_redis is None or from_file.version > from_redis.version
        problem = config_problem(rt, from_file) if wins else ""
        if problem:
            rt.control_error = f"control.json (version {from_file.version}) refused: {problem}"
            from_file = rt.last_desired
    desired = newer(from_redis, from_file)
    if not rt.control_error and desired.config and (problem := config_problem(rt, desired)):
        rt.control_error = f"config overrides ignored: {problem}"[:500]
    if rt.last_desired is not None and rt.last_desired.version >= desired.version:
        # never step back; a hand edit must bump the version to win (as on convergence)
        desired = rt.last_desired
    rt.last_desired = desired
    paused = not desired.entries_allowed
    if paused != rt.paused:
        log_entries_change(rt.config.replica, desired, paused)
    rt.paused = paused
    return desired


def log_entries_change(replica: str, desired: DesiredState, paused: bool) -> None:
    """One line when entries stop or resume, naming the command's version and author."""
    who = desired.updated_by or "?"
    if not paused:
        log.info("runner %s resumed: new entries allowed (control version %d by %s)",
                 replica, desired.version, who)  # fmt: skip
        return
    why = (
        "killed: flattening, no new entries until resume"
        if desired.killed
        else "paused: no new entries; open orders and positions stay"
    )
    log.warning("runner %s %s (control version %d by %s)", replica, why, desired.version, who)


def config_problem(rt: Runtime, state: DesiredState) -> str:
    """Why `state`'s config overrides do not fit the PARAMS this runner loaded ('' if they do)."""
    code = rt.reloader.current if state.config else None
    if code is None:
        return ""
    declared = {name: strategy.params for name, strategy in code.strategies.items()}
    return "; ".join(config_problems(state.config, declared, strict_strategies=False))
