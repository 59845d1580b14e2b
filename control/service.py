"""The control service: what the CLI and the HTTP API call to read and change desired state.

    service = ControlService(settings)                 # or ControlService(settings, factory)
    result = service.apply("pause", {}, actor="alice")  # -> ControlResult
    result.state, result.plane, result.message, result.warnings
    service.config_get("momentum"); service.status(); service.desired()

Planes. With Redis reachable (a PING with a short timeout, no retries), a
command converges both copies, applies its transition to the Redis state and
writes it with compare-and-set on the version (re-reading and re-applying on a
conflict), mirrors it to control.json and appends audit.jsonl, all under the
control.json lock. With Redis unreachable it writes control.json alone under
the lock (version = max(file version, audit.jsonl's highest) + 1) and
audit.jsonl; runners obey the file at their next tick, and convergence copies
it into Redis when Redis is back.

Refusals raise `Refused` (validation, a broken control.json with Redis down),
malformed requests raise `UsageError`; both carry a message for the operator.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import filelock
import redis
from pydantic import ValidationError

from control import status_view
from control.commands import Change, CommandSpec, Refused, lookup
from control.params import Catalog, read_catalog
from control.reports import CommandReport, ConfigReport, Plane, RiskReport, StatusReport
from state_store.audit import AuditEntry, append_jsonl, current_user, high_water, hostname
from state_store.connection import connect, describe_target, redis_available
from state_store.converge import converge_locked
from state_store.desired import MAX_VERSION, DesiredState, describe_errors, newer
from state_store.desired_file import FileRead, read_file, set_aside, write_file
from state_store.desired_redis import read_redis, write_redis
from state_store.errors import REDIS_UNAVAILABLE
from state_store.files import LOCK_TIMEOUT_S, lock_for
from state_store.keys import Keys
from state_store.param_spec import config_problems
from state_store.settings import Settings

log = logging.getLogger(__name__)

ClientFactory = Callable[[], redis.Redis]
PROBE_TIMEOUT_S = 0.5
MAX_CAS_ATTEMPTS = 100


@dataclass(frozen=True)
class ControlResult:
    """The outcome of one applied command."""

    command: str
    state: DesiredState  # the new desired state
    old_version: int
    plane: Plane  # "redis": Redis + control.json; "file": control.json only
    message: str  # one line for the operator, naming the version and the plane
    warnings: tuple[str, ...] = ()
    audit: AuditEntry | None = None

    def report(self) -> CommandReport:
        return CommandReport(
            command=self.command,
            state=self.state,
            old_version=self.old_version,
            version=self.state.version,
            plane=self.plane,
            message=self.message,
            warnings=list(self.warnings),
        )

    def to_json(self) -> dict[str, Any]:
        return self.report().model_dump(mode="json", exclude_none=True)


@dataclass
class _Attempt:
    spec: CommandSpec
    args: Mapping[str, Any]
    actor: str
    catalog: Catalog
    warnings: list[str] = field(default_factory=list)


class ControlService:
    """Desired-state commands and reads for one bot (settings.bot) of one home."""

    def __init__(
        self,
        settings: Settings,
        client_factory: ClientFactory | None = None,
        *,
        probe_timeout: float = PROBE_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.keys = Keys(settings.bot)
        # A control command never starts the embedded Redis (who does: README, "Redis").
        self._factory = client_factory or (lambda: connect(settings, start_embedded=False))
        self._client: redis.Redis | None = None
        self.probe_timeout = probe_timeout
        self.redis_problem = ""  # why the last probe found Redis unreachable

    # -- planes ----------------------------------------------------------------
    def client(self) -> redis.Redis | None:
        """A client when Redis answers a PING within `probe_timeout`, else None."""
        try:
            if self._client is None:
                self._client = self._factory()
        except Exception as exc:  # embedded Redis failing to start counts as "down"
            self.redis_problem = f"{describe_target(self.settings)}: {exc}"
            return None
        if redis_available(self._client, self.probe_timeout):
            self.redis_problem = ""
            return self._client
        self.redis_problem = f"{describe_target(self.settings)} does not answer"
        if not self.settings.redis_url:
            self.redis_problem += " (not running; control commands do not start it)"
        return None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- commands --------------------------------------------------------------
    def apply(
        self, command: str, args: Mapping[str, Any] | None = None, actor: str | None = None
    ) -> ControlResult:
        """Apply one command (see control.commands.REGISTRY) as `actor` (default: unix user)."""
        args = dict(args or {})
        spec = lookup(command, args)
        strategies = self.settings.strategies
        catalog = read_catalog(strategies) if spec.needs_catalog else Catalog(strategies)
        attempt = _Attempt(spec, args, actor or current_user(), catalog)
        try:
            client = self.client()
            if client is not None:
                try:
                    return self._apply_redis(client, attempt)
                except REDIS_UNAVAILABLE as exc:
                    log.warning("redis failed during %s: %s", command, exc)
                    attempt.warnings.append(f"Redis failed during the command ({exc})")
                    self.redis_problem = str(exc)
            return self._apply_file(attempt)
        except filelock.Timeout as exc:
            raise Refused(
                f"{exc.lock_file} is held by another process for more than "
                f"{LOCK_TIMEOUT_S:g} s: nothing was written; retry, or find the stuck process"
            ) from exc

    def _apply_redis(self, client: redis.Redis, at: _Attempt) -> ControlResult:
        path = self.settings.control_file
        with lock_for(path):
            check = self.config_check
            conv = converge_locked(client, self.settings, repair_invalid=True, check=check)
            at.warnings.extend(conv.warnings)
            for _ in range(MAX_CAS_ATTEMPTS):
                red = read_redis(client, self.keys)
                base = red.state or conv.state
                change = at.spec.transition(base, at.args, at.catalog)
                new, entry = self._next(base, change, at, "redis")
                outcome = write_redis(client, self.keys, new, [entry], "cas", red.raw_version)
                if outcome.outcome != "conflict":
                    break
                log.debug(
                    "version moved from %s to %s: re-applying",
                    red.raw_version,
                    outcome.found_version,
                )
            else:
                raise Refused(f"{at.spec.name}: Redis kept changing ({MAX_CAS_ATTEMPTS} tries)")
            self._mirror(new, at)
            append_jsonl(self.settings.audit_file, entry)
        text = f"{change.summary} (version {new.version}, written to redis + control.json)"
        warnings = tuple(at.warnings)
        return ControlResult(at.spec.name, new, base.version, "redis", text, warnings, entry)

    def _mirror(self, new: DesiredState, at: _Attempt) -> None:
        """Move control.json forward to `new` (never back; a broken file is kept aside)."""
        path = self.settings.control_file
        found = read_file(path)
        if found.error:  # broken since convergence looked at it (a concurrent hand edit)
            aside = set_aside(path)
            at.warnings.append(f"{found.error}; moved it to {aside.name}")
        if found.version < new.version:
            write_file(path, new)

    def _apply_file(self, at: _Attempt) -> ControlResult:
        path = self.settings.control_file
        with lock_for(path):
            found = read_file(path)
            if found.error:
                raise Refused(
                    f"{found.error}. Redis is unreachable ({self.redis_problem}), so there is "
                    "no other copy to restore from: nothing was written, and runners keep the "
                    "last valid state. Fix control.json (or move it aside to start again from "
                    "the default state) and retry."
                )
            if found.state is None:
                at.warnings.append(f"{path} absent: starting from the default state")
            base = self._without_refused_config(found.state or DesiredState(), at)
            change = at.spec.transition(base, at.args, at.catalog)
            new, entry = self._next(base, change, at, "file")
            write_file(path, new)
            append_jsonl(self.settings.audit_file, entry)
        text = (
            f"{change.summary} (version {new.version}). Redis unreachable: wrote control.json "
            f"only; runners obey it at their next tick ({self.redis_problem or 'no answer'})"
        )
        warnings = tuple(at.warnings)
        return ControlResult(at.spec.name, new, base.version, "file", text, warnings, entry)

    def _without_refused_config(self, state: DesiredState, at: _Attempt) -> DesiredState:
        """`state` less the config overrides PARAMS refuse (a hand edit), with a warning."""
        problem = self.config_check(state)
        if not problem:
            return state
        at.warnings.append(f"control.json config refused and dropped: {problem}")
        catalog = read_catalog(self.settings.strategies)
        kept = {
            name: {
                k: v for k, v in kv.items() if not config_problems({name: {k: v}}, catalog.specs)
            }
            for name, kv in state.config.items()
        }
        return state.model_copy(update={"config": {n: kv for n, kv in kept.items() if kv}})

    def _next(
        self, base: DesiredState, change: Change, at: _Attempt, plane: Plane
    ) -> tuple[DesiredState, AuditEntry]:
        """The new state (version bumped past every version seen) and its audit entry."""
        version = max(base.version, high_water(self.settings.audit_file)) + 1
        if version > MAX_VERSION:
            raise Refused(
                f"{at.spec.name}: the control version is {version - 1}, the highest there is "
                f"({MAX_VERSION}): no command can bump it (only a direct Redis write gets there)"
            )
        now = time.time()
        change_id = uuid.uuid4().hex
        new = base.model_copy(
            update={
                **change.fields,
                "version": version,
                "updated_at": now,
                "updated_by": at.actor,
                "change_id": change_id,
            }
        )
        try:  # re-check the updated fields (a reload/flatten sequence at its limit, ...)
            new = DesiredState.model_validate(new.model_dump())
        except ValidationError as exc:
            raise Refused(f"{at.spec.name} cannot be applied: {describe_errors(exc)}") from None
        entry = AuditEntry(
            ts=now,
            who=at.actor,
            command=at.spec.name,
            old_version=base.version,
            new_version=version,
            plane=plane,
            change_id=change_id,
            args=dict(change.args),
            host=hostname(),
            bot=self.settings.bot,
        )
        return new, entry

    def config_check(self, state: DesiredState) -> str:
        """Why `state`'s config overrides are refused, as `ctl config set` would refuse them."""
        catalog = read_catalog(self.settings.strategies)
        if not catalog.directory.is_dir():
            return ""  # nothing to check against here; runners check what they loaded
        return "; ".join(config_problems(state.config, catalog.specs))

    # -- reads -----------------------------------------------------------------
    def desired(self) -> tuple[DesiredState, Plane, list[str]]:
        """The state in force (higher version of Redis and control.json), read-only."""
        return self._desired(self.client())

    def _desired(self, client: redis.Redis | None) -> tuple[DesiredState, Plane, list[str]]:
        found = read_file(self.settings.control_file)
        notes = [found.error] if found.error else []
        if client is not None:
            try:
                red = read_redis(client, self.keys)
                notes += [red.error] if red.error else []
                found = self._checked(found, red.version, notes)
                return newer(red.state, found.state), "redis", notes
            except REDIS_UNAVAILABLE as exc:
                self.redis_problem = str(exc)
        found = self._checked(found, -1, notes)
        return newer(None, found.state), "file", notes

    def _checked(self, found: FileRead, redis_version: int, notes: list[str]) -> FileRead:
        """`found`, or nothing with a note when its config would win and is refused."""
        if found.state is None or found.state.version <= redis_version:
            return found
        problem = self.config_check(found.state)
        if not problem:
            return found
        notes.append(f"control.json (version {found.state.version}) refused: {problem}")
        return FileRead(None, problem)

    def config_get(self, strategy: str | None = None) -> ConfigReport:
        """Per strategy: PARAMS defaults, overrides in force, effective values."""
        state, plane, notes = self.desired()
        catalog = read_catalog(self.settings.strategies)
        return status_view.config_report(state, catalog, strategy, plane, notes)

    def risk_get(self) -> RiskReport:
        """The risk limits in force per scope, and what the runners report of them."""
        status = self.status()
        state, plane, notes = self.desired()
        catalog = read_catalog(self.settings.strategies)
        return status_view.risk_report(state, catalog, plane, notes, status.runners)

    def status(self) -> StatusReport:
        """Runners, code, positions, orders, reloads and control state (see control.status_view)."""
        client = self.client()
        state, plane, notes = self._desired(client)
        if client is not None and plane == "redis":
            try:
                return status_view.redis_status(client, self.settings, state, notes)
            except REDIS_UNAVAILABLE as exc:
                self.redis_problem = str(exc)
        return status_view.file_status(self.settings, state, notes, self.redis_problem)
