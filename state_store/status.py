"""Runner status: a section per replica, in Redis (`nb:{B}:runner:<replica>`) and status.json.

The runner hash has flat, human-readable fields (`redis-cli HGETALL
'nb:{default}:runner:r1'`): scalars as text (booleans `True`/`False`), nested
values as JSON. It expires when the runner stops beating.

`<home>/status.json` is shared by every runner of the home:

    {"runners": {"<replica>": <section>, ...}, "reloads": [<manifest entry>, ...]}

Each runner replaces only its own section (and appends its reload entries)
under the file lock, keeping everything else as it was written. Readers are
tolerant: a section or entry this version cannot read (written by another
version mid-upgrade) is skipped, never fatal; missing fields take their
defaults and unknown ones are ignored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Any, Union, cast, get_args, get_origin

import redis
from pydantic import BaseModel, ConfigDict, Field

from state_store.files import read_json, update_json_locked
from state_store.keys import Keys
from state_store.manifest import STATUS_RELOADS, ManifestEntry


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class RunnerCode(_Record):
    """The code generation a runner runs."""

    generation: str = ""
    files: dict[str, str] = Field(default_factory=dict)
    git_sha: str = ""
    git_dirty: bool = False
    on_probation: bool = False


class TickSeconds(_Record):
    """Cumulative tick-duration histogram (Prometheus-style: count per upper bound `le`)."""

    buckets: list[tuple[float, int]] = Field(default_factory=list)
    count: int = 0
    sum: float = 0.0
    last: float = 0.0


class TickGapsRecord(_Record):
    """How regularly ticks start (runner.tick_timing.TickGaps), since the runner process started.

    The loop starts a tick every tick period (`--tick`). A tick that starts `gap`
    seconds after the previous one started missed `floor(gap / period) - 1` ticks
    (none while gap < 2 periods: a late tick is not a missed one).
    """

    missed: int = 0  # ticks missed in all
    most_missed: int = 0  # the most ticks missed in a row (between two tick starts)
    longest_gap_s: float = 0.0  # the longest time between two tick starts
    longest_gap_tick: int = 0  # the tick that started after it


class DataGuardStatus(_Record):
    """What a runner knows of its bot's Redis (runner.guard) and its venue order sync."""

    state: str = "ok"  # "ok", or why it places no new orders (a rebuild from the venue)
    redis_epoch: str = ""  # the first 12 characters of nb:{B}:epoch last seen
    redis_seq: int = -1  # this replica's sequence after its last tick
    repairs: int = 0  # rebuilds from the venue by this process
    last_repair: dict[str, Any] = Field(default_factory=dict)  # reason, counts, seconds
    orders_adopted: int = 0  # venue orders Redis did not know, adopted by this process
    orders_ended_at_venue: int = 0  # orders the venue ended that this process ended in Redis


class BookSources(_Record):
    """Where a runner's books came from at its last tick (runner.books)."""

    market_stream: str = ""  # connected | down | "" (no market channel: REST every tick)
    stream: int = 0  # books taken from the market channel
    rest: int = 0  # books fetched with POST /books (no stream, stream down, no snapshot yet)
    stale: int = 0  # streamed books with no message for the stale limit: no new entries
    rest_polls: int = 0  # ticks that fetched books over REST since the runner started
    entries_refused: int = 0  # buy intents refused on a stale book since the runner started
    resyncs: int = 0  # books re-requested from the stream after a gap


class RunnerStatus(_Record):
    """One runner's section: who it is, how far it got, what it runs, what went wrong."""

    replica: str = ""
    pid: int = 0
    tick: int = 0
    last_tick_at: float = 0.0
    heartbeat: float = 0.0
    paused: bool = False
    degraded: bool = False
    control_error: str = ""
    operational_error: str = ""  # "<Kind>: <message>": no new orders until it is lifted
    operational_error_since: float | None = None
    venue_unresponsive_since: float | None = None
    venue_error: str = ""  # the current venue error ("" once a tick gets all its answers)
    # the venue's "not now" in force: restarting, post_only, cancel_only, disabled,
    # insufficient_balance ("" none); no new orders (post_only: post-only ones) until it passes
    venue_restriction: str = ""
    venue_restriction_reason: str = ""
    venue_restriction_since: float | None = None
    code: RunnerCode = Field(default_factory=RunnerCode)
    strategies: list[str] = Field(default_factory=list)
    markets: list[str] = Field(default_factory=list)
    venue_clock: dict[str, float] = Field(default_factory=dict)  # venue_time, wall_time, rate
    strategy_errors: dict[str, int] = Field(default_factory=dict)
    overruns: dict[str, int] = Field(default_factory=dict)
    last_errors: dict[str, str] = Field(default_factory=dict)
    orders_created: int = 0
    fills_applied: int = 0
    fills_reversed: int = 0  # fills of trades the venue marked FAILED, undone
    trade_polls: int = 0  # /data/trades polls (none while the user channel is connected)
    user_stream: str = ""  # connected, catching up, down, or "" when no user channel is configured
    books: BookSources = Field(default_factory=BookSources)
    tick_seconds: TickSeconds = Field(default_factory=TickSeconds)
    tick_gaps: TickGapsRecord = Field(default_factory=TickGapsRecord)
    loop_errors: int = 0
    last_loop_error: str = ""
    venue_errors: int = 0
    last_venue_error: str = ""
    data_guard: DataGuardStatus = Field(default_factory=DataGuardStatus)
    risk_refused: dict[str, int] = Field(default_factory=dict)  # "<scope>.<limit>" -> orders
    risk_day_pnl: dict[str, str] = Field(default_factory=dict)  # scope -> the UTC day's PnL
    risk_breached: list[str] = Field(default_factory=list)  # scopes past their daily loss
    window_source: str = ""  # gamma (found by slug, runner.discovery) or listing (venue markets)
    gamma_requests: int = 0  # requests this runner made to Gamma
    unlisted_windows: dict[str, str] = Field(default_factory=dict)  # due, not on Gamma: why
    stopped: bool = False

    def to_redis(self) -> dict[str, str]:
        """Flat hash fields: scalars with str(), nested values as JSON."""
        out = {}
        for key, value in self.model_dump(mode="json").items():
            if key == "stopped" and not value:
                continue  # only a stopping runner says so (its hash is deleted right after)
            if isinstance(value, dict | list):
                out[key] = json.dumps(value, sort_keys=True)
            else:
                out[key] = "" if value is None else str(value)
        return out

    @classmethod
    def from_redis(cls, fields: Mapping[str, str]) -> RunnerStatus:
        """ValueError when a field is malformed."""
        data: dict[str, Any] = {}
        for key, value in fields.items():
            if value == "" and key not in _TEXT:
                continue  # None (or nothing): the default
            data[key] = json.loads(value) if key in _NESTED else value
        return cls.model_validate(data)

    def to_file(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if not self.stopped:
            del data["stopped"]
        return data

    @classmethod
    def from_file(cls, data: Any) -> RunnerStatus | None:
        """A section of status.json; None when it is not one."""
        if not isinstance(data, dict):
            return None
        try:
            return cls.model_validate(data)
        except ValueError:
            return None

    def heartbeat_age(self, now: float | None = None) -> float | None:
        if self.heartbeat <= 0:
            return None
        return round((time.time() if now is None else now) - self.heartbeat, 1)


def _scalar_kinds(annotation: Any) -> set[Any]:
    """The types a field holds, without None (`float | None` -> {float})."""
    union = get_origin(annotation) in (Union, UnionType)
    return (set(get_args(annotation)) if union else {annotation}) - {type(None)}


# How each hash field is decoded, derived from the annotations so a new field needs no
# codec change: text fields as they are, nested ones (models, lists, dicts) from JSON,
# numbers and booleans by pydantic; an empty non-text field is None (its default).
_FIELD_KINDS = {n: _scalar_kinds(f.annotation) for n, f in RunnerStatus.model_fields.items()}
_TEXT = frozenset(n for n, kinds in _FIELD_KINDS.items() if kinds == {str})
_NESTED = frozenset(n for n, kinds in _FIELD_KINDS.items() if not kinds <= {str, int, float, bool})


class StatusFile(BaseModel):
    """`<home>/status.json`: every runner's section and the recent reload manifest."""

    model_config = ConfigDict(extra="allow")  # top-level keys of another version are kept

    runners: dict[str, RunnerStatus] = Field(default_factory=dict)
    reloads: list[ManifestEntry] = Field(default_factory=list)

    def to_file(self) -> dict[str, Any]:
        return {
            **(self.model_extra or {}),
            "runners": {r: s.to_file() for r, s in self.runners.items()},
            "reloads": [e.to_file() for e in self.reloads],
        }

    @classmethod
    def from_file(cls, data: Any) -> StatusFile:
        """Whatever of `data` this version can read (an empty file when nothing)."""
        if not isinstance(data, dict):
            return cls()
        raw_runners = data.get("runners")
        raw_reloads = data.get("reloads")
        runners = {
            str(replica): section
            for replica, raw in (raw_runners.items() if isinstance(raw_runners, dict) else ())
            if (section := RunnerStatus.from_file(raw)) is not None
        }
        reloads = [
            entry
            for raw in (raw_reloads if isinstance(raw_reloads, list) else ())
            if (entry := ManifestEntry.from_file(raw)) is not None
        ]
        extra = {k: v for k, v in data.items() if k not in ("runners", "reloads")}
        return cls(runners=runners, reloads=reloads, **extra)


def read_status_file(path: Path) -> StatusFile:
    """status.json as far as it can be read (empty when absent or not JSON)."""
    return StatusFile.from_file(read_json(path))


def write_status_file(
    path: Path, replica: str, section: RunnerStatus, new_reloads: list[ManifestEntry]
) -> None:
    """Replace this replica's section and append reload entries, under the file lock.

    Other replicas' sections, older entries and unknown keys are kept as they were
    written (by whichever version wrote them): a writer owns only its own section.
    """

    def change(current: Any) -> dict[str, Any]:
        data = current if isinstance(current, dict) else {}
        runners = data.get("runners")
        runners = {**(runners if isinstance(runners, dict) else {}), replica: section.to_file()}
        reloads = data.get("reloads")
        reloads = [*(reloads if isinstance(reloads, list) else []),
                   *(e.to_file() for e in new_reloads)][-STATUS_RELOADS:]  # fmt: skip
        return {**data, "runners": runners, "reloads": reloads}

    update_json_locked(path, change)


def heartbeat(
    client: redis.Redis, keys: Keys, replica: str, section: RunnerStatus, ttl_ms: int
) -> None:
    """Replace the runner hash; it expires `ttl_ms` after the last beat."""
    pipe = client.pipeline(transaction=False)
    pipe.delete(keys.runner(replica))
    pipe.hset(keys.runner(replica), mapping=cast(Any, section.to_redis()))
    pipe.pexpire(keys.runner(replica), ttl_ms)
    pipe.sadd(keys.runners, replica)
    pipe.execute()


def read_runner(client: redis.Redis, keys: Keys, replica: str) -> RunnerStatus | None:
    """The live runner hash; None when it expired (or cannot be read)."""
    fields = cast(dict[str, str], client.hgetall(keys.runner(replica)))
    return runner_of(fields)


def runner_of(fields: Mapping[str, str]) -> RunnerStatus | None:
    if not fields:
        return None
    try:
        return RunnerStatus.from_redis(fields)
    except ValueError:
        return None
