"""Control commands as pure transitions of the desired state, in one registry.

A transition gets the current `DesiredState`, the command's arguments and the
strategies catalog, and returns the fields to change plus a one-line summary.
It never touches Redis or files and never bumps the version: the service does
that (`version`, `updated_at`, `updated_by`, `change_id`) for every command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from control.params import Catalog, InvalidValue, coerce
from state_store import risk
from state_store.desired import ConfigValue, DesiredState
from state_store.param_spec import range_problem


class ControlError(ValueError):
    """A command that was not applied; the message says why and what to do."""


class Refused(ControlError):
    """Well-formed but not acceptable now (unknown key, wrong type, broken control.json)."""


class UsageError(ControlError):
    """Malformed: unknown command, unexpected or missing arguments."""


@dataclass(frozen=True)
class Change:
    """What a transition decided: new field values, normalized args for the audit, a summary."""

    fields: Mapping[str, Any]
    summary: str
    args: Mapping[str, Any] = field(default_factory=dict)


Transition = Callable[[DesiredState, Mapping[str, Any], Catalog], Change]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    transition: Transition
    args: frozenset[str]  # accepted argument names
    help: str
    needs_catalog: bool = False


def _pause(state: DesiredState, args: Mapping[str, Any], catalog: Catalog) -> Change:
    note = " (it already was)" if state.paused else ""
    return Change({"paused": True}, f"paused{note}: no new entries until resume")


def _resume(state: DesiredState, args: Mapping[str, Any], catalog: Catalog) -> Change:
    was = [name for name, on in (("paused", state.paused), ("killed", state.killed)) if on]
    note = f" (cleared {' and '.join(was)})" if was else " (it was not paused)"
    return Change({"paused": False, "killed": False}, f"resumed{note}")


def _reload(state: DesiredState, args: Mapping[str, Any], catalog: Catalog) -> Change:
    module = str(args.get("module") or "")
    if module and catalog.directory.is_dir() and module not in catalog.modules:
        known = ", ".join(sorted(catalog.modules)) or "none"
        raise Refused(f"no module {module!r} in {catalog.directory} (modules: {known})")
    what = f"module {module}" if module else "all strategies"
    return Change(
        {"reload_seq": state.reload_seq + 1, "reload_module": module},
        f"reload requested ({what}, reload_seq {state.reload_seq + 1})",
        {"module": module} if module else {},
    )


def _flatten(state: DesiredState, args: Mapping[str, Any], catalog: Catalog) -> Change:
    seq = state.flatten_seq + 1
    return Change(
        {"flatten_seq": seq},
        f"flatten requested (flatten_seq {seq}): runners cancel pending orders and close "
        "positions; strategies keep trading unless paused (use kill to flatten and stop)",
    )


def _kill(state: DesiredState, args: Mapping[str, Any], catalog: Catalog) -> Change:
    seq = state.flatten_seq + 1
    return Change(
        {"flatten_seq": seq, "killed": True},
        f"killed: flatten requested (flatten_seq {seq}) and no entries until an explicit resume",
    )


def _config_set(state: DesiredState, args: Mapping[str, Any], catalog: Catalog) -> Change:
    values = args.get("values")
    if not isinstance(values, Mapping) or not values:
        raise UsageError("config set needs at least one STRATEGY.KEY=VALUE")
    typed = validate_values(values, catalog)
    merged = {name: dict(overrides) for name, overrides in state.config.items()}
    for name, overrides in typed.items():
        merged.setdefault(name, {}).update(overrides)
    text = ", ".join(f"{s}.{k}={v!r}" for s, kv in typed.items() for k, v in kv.items())
    return Change({"config": merged}, f"config set {text}", {"values": typed})


def _risk_set(state: DesiredState, args: Mapping[str, Any], catalog: Catalog) -> Change:
    values = args.get("values")
    if not isinstance(values, Mapping) or not values:
        raise UsageError("risk set needs at least one SCOPE.LIMIT=VALUE")
    typed = validate_limits(values, catalog)
    merged = {scope: dict(limits) for scope, limits in state.risk.items()}
    for scope, limits in typed.items():
        merged.setdefault(scope, {}).update(limits)
    text = ", ".join(f"{s}.{k}={v!r}" for s, kv in typed.items() for k, v in kv.items())
    return Change({"risk": merged}, f"risk set {text}", {"values": typed})


REGISTRY: Mapping[str, CommandSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            CommandSpec("pause", _pause, frozenset(), "stop new entries"),
            CommandSpec("resume", _resume, frozenset(), "allow entries again (clears kill)"),
            CommandSpec("reload", _reload, frozenset({"module"}), "reload strategy code", True),
            CommandSpec("config_set", _config_set, frozenset({"values"}), "override PARAMS", True),
            CommandSpec("risk_set", _risk_set, frozenset({"values"}), "set risk limits", True),
            CommandSpec("flatten", _flatten, frozenset(), "cancel orders, close positions"),
            CommandSpec("kill", _kill, frozenset(), "flatten, then no entries until resume"),
        )
    }
)


def lookup(command: str, args: Mapping[str, Any]) -> CommandSpec:
    """The command's spec; UsageError for an unknown command or unexpected arguments."""
    spec = REGISTRY.get(command)
    if spec is None:
        raise UsageError(f"unknown command {command!r}; commands: {', '.join(REGISTRY)}")
    unexpected = sorted(set(args) - spec.args)
    if unexpected:
        raise UsageError(f"{command} takes no argument(s) {', '.join(unexpected)}")
    return spec


def validate_values(
    values: Mapping[str, Any], catalog: Catalog
) -> dict[str, dict[str, ConfigValue]]:
    """`{strategy: {key: raw}}` typed against PARAMS; Refused naming every bad entry."""
    if not catalog.directory.is_dir():
        raise Refused(
            f"cannot validate config: strategies folder {catalog.directory} not found "
            "(pass --strategies or set NEVERBLINK_STRATEGIES)"
        )
    typed: dict[str, dict[str, ConfigValue]] = {}
    errors: list[str] = []
    for name, overrides in values.items():
        if not isinstance(overrides, Mapping):
            errors.append(f"{name}: expected KEY=VALUE pairs, got {overrides!r}")
            continue
        for key, raw in overrides.items():
            try:
                value = _typed(catalog, str(name), str(key), raw)
                typed.setdefault(str(name), {})[str(key)] = value
            except Refused as exc:
                errors.append(str(exc))
    if errors:
        raise Refused("; ".join(errors))
    return typed


def _typed(catalog: Catalog, name: str, key: str, raw: object) -> ConfigValue:
    params = catalog.params.get(name)
    if params is None:
        known = ", ".join(catalog.strategies) or "none"
        hint = [p for p in catalog.problems if p.startswith(f"{name}.py:")]
        extra = f" ({hint[0]})" if hint else ""
        raise Refused(f"unknown strategy {name!r}{extra}; strategies: {known}")
    if key not in params:
        known = ", ".join(sorted(params)) or "none (it has no PARAMS)"
        raise Refused(f"{name} has no parameter {key!r}; parameters: {known}")
    default = params[key]
    try:
        value = coerce(raw, default)
    except InvalidValue as exc:
        raise Refused(f"{name}.{key}: {exc} (its default is {default!r})") from None
    spec = catalog.specs.get(name, {}).get(key)
    problem = range_problem(spec, value) if spec is not None else ""
    if problem:
        raise Refused(f"{name}.{key}: {problem} (its default is {default!r})")
    return value


def parse_assignments(
    items: Iterable[str], form: str = "STRATEGY.KEY=VALUE", command: str = "config set"
) -> dict[str, dict[str, str]]:
    """`["momentum.size=7", ...]` -> `{"momentum": {"size": "7"}}`; UsageError when malformed."""
    values: dict[str, dict[str, str]] = {}
    for item in items:
        target, eq, raw = item.partition("=")
        strategy, dot, key = target.strip().partition(".")
        if not eq or not dot or not strategy or not key:
            raise UsageError(f"expected {form}, got {item!r}")
        values.setdefault(strategy, {})[key] = raw
    if not values:
        raise UsageError(f"{command} needs at least one {form}")
    return values


def validate_limits(
    values: Mapping[str, Any], catalog: Catalog
) -> dict[str, dict[str, ConfigValue]]:
    """`{scope: {limit: raw}}` typed against state_store.risk.LIMITS; a scope is `bot` or a
    strategy of the folder; Refused naming every bad entry."""
    typed: dict[str, dict[str, ConfigValue]] = {}
    errors: list[str] = []
    for scope, limits in values.items():
        problem = _scope_problem(str(scope), catalog)
        if problem or not isinstance(limits, Mapping):
            errors.append(problem or f"{scope}: expected LIMIT=VALUE pairs, got {limits!r}")
            continue
        for name, raw in limits.items():
            try:
                typed.setdefault(str(scope), {})[str(name)] = _limit(str(scope), str(name), raw)
            except Refused as exc:
                errors.append(str(exc))
    if errors:
        raise Refused("; ".join(errors))
    return typed


def _scope_problem(scope: str, catalog: Catalog) -> str:
    if scope == risk.BOT or scope in catalog.params:
        return ""
    if not catalog.directory.is_dir():
        return (
            f"cannot check strategy {scope!r}: strategies folder {catalog.directory} not found "
            "(pass --strategies or set NEVERBLINK_STRATEGIES)"
        )
    known = ", ".join(catalog.strategies) or "none"
    return f"unknown scope {scope!r}: {risk.BOT!r} or a strategy ({known})"


def _limit(scope: str, name: str, raw: object) -> ConfigValue:
    spec = risk.LIMITS.get(name)
    if spec is None:
        raise Refused(f"{scope}.{name}: no such limit; limits: {', '.join(risk.LIMITS)}")
    try:
        value = coerce(raw, spec.default)
    except InvalidValue as exc:
        raise Refused(f"{scope}.{name}: {exc}") from None
    problem = range_problem(spec, value)
    if problem:
        raise Refused(f"{scope}.{name}: {problem}")
    return value
