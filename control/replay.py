"""`neverblink replay FILE`: replay a recorded control sequence against a dry-run bot.

The recording is the audit.jsonl format (one JSON entry per line, as written by
the control service). Each command is applied, as its recorded `who`, to a
sandbox bot (control.replay_sandbox: fresh bot id, paper venue in-process,
manual clock), then the bot ticks `ticks` times, the venue clock moving `tick_s`
venue seconds per tick. Each step reports what the bot did: paused or not,
orders placed, fills, reloads, pending orders, positions and the config in force.

Entries that cannot be replayed are reported, not hidden: a `hand_edit` (the
audit keeps no content), an unknown command, or a command the current
strategies refuse (e.g. a parameter that no longer exists).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from control.commands import REGISTRY, ControlError
from control.replay_sandbox import Sandbox, SandboxOptions, sandbox
from state_store.audit import AuditEntry
from state_store.manifest import ManifestEntry

MAX_RECORDING_BYTES = 50_000_000


class ReplayError(ValueError):
    """The recording cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class ReplayOptions:
    strategies: Path
    ticks: int = 3  # ticks after each command
    tick_s: float = 5.0  # venue seconds per tick
    warmup_ticks: int = 3  # ticks before the first command
    window_seconds: int = 60
    seed: int = 0
    redis_url: str | None = None


@dataclass
class Step:
    """What one recorded command did to the dry-run bot."""

    step: int
    command: str
    args: dict[str, Any]
    who: str
    recorded_version: int
    outcome: str  # applied | refused | skipped | baseline
    message: str = ""
    version: int = 0
    paused: bool = False  # entries blocked (paused or killed) during the step's ticks
    killed: bool = False
    ticks: int = 0
    orders_placed: int = 0
    fills: int = 0
    reloads: list[str] = field(default_factory=list)  # "kind generation (error)"
    strategy_errors: list[str] = field(default_factory=list)
    generation: str = ""
    pending_orders: int = 0
    positions: dict[str, dict[str, str]] = field(default_factory=dict)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    venue_time: float = 0.0


@dataclass
class ReplayReport:
    file: str
    bot: str
    redis: str
    steps: list[Step]
    initial_code: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_recording(path: Path) -> list[AuditEntry]:
    """The entries of an audit.jsonl recording, in file order; ReplayError naming bad lines."""
    try:
        if path.stat().st_size > MAX_RECORDING_BYTES:
            raise ReplayError(f"{path}: larger than {MAX_RECORDING_BYTES} bytes")
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{path}: cannot read: {exc}") from exc
    entries, bad = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            entries.append(AuditEntry.from_json(data))
        except (ValueError, TypeError, KeyError) as exc:
            bad.append(f"line {number}: {exc}")
    if bad:
        raise ReplayError(f"{path}: not an audit recording: " + "; ".join(bad[:5]))
    if not entries:
        raise ReplayError(f"{path}: no entries")
    return entries


def replay(path: Path, options: ReplayOptions) -> ReplayReport:
    entries = read_recording(path)
    box_options = SandboxOptions(
        options.strategies, options.window_seconds, options.seed, options.redis_url
    )
    with sandbox(box_options) as box:
        initial = [_describe_reload(e) for e in box.initial_events]
        baseline = Step(0, "(start)", {}, "", 0, "baseline")
        steps = [_run_ticks(box, baseline, options.warmup_ticks, options.tick_s)]
        for number, entry in enumerate(entries, start=1):
            step = _apply(box, number, entry)
            steps.append(_run_ticks(box, step, options.ticks, options.tick_s))
        return ReplayReport(str(path), box.bot, box.redis_where, steps, initial)


#: entries the audit records that are no control command, and why they are not replayed
SKIPPED = {
    "hand_edit": "a hand edit of control.json: the audit keeps no content to replay",
    "risk_pause": "a pause a runner made (a daily loss limit): the dry-run bot's runners "
    "judge its limits themselves",
}


def _apply(box: Sandbox, number: int, entry: AuditEntry) -> Step:
    step = Step(number, entry.command, dict(entry.args), entry.who, entry.new_version, "applied")
    if entry.command not in REGISTRY:
        step.outcome = "skipped"
        step.message = SKIPPED.get(entry.command, f"unknown command {entry.command!r}")
        return step
    try:
        result = box.service.apply(entry.command, entry.args, actor=entry.who or "replay")
    except ControlError as exc:
        step.outcome, step.message = "refused", str(exc)
        return step
    step.message = result.message.split(" (version")[0]
    return step


def _run_ticks(box: Sandbox, step: Step, ticks: int, tick_s: float) -> Step:
    from runner.tick import run_tick

    rt = box.runtime
    for _ in range(ticks):
        box.clock.advance(tick_s)
        attempts = rt.publisher.attempts
        seen = rt.seen_reload_seq
        report = run_tick(rt)
        if rt.seen_reload_seq != seen and seen >= 0:  # a reload was requested this tick
            box.settle_reloader(attempts)
        step.ticks += 1
        step.paused = step.paused or report.paused
        step.orders_placed += report.created
        step.fills += report.fills
        step.reloads += [_describe_reload(e) for e in report.reloads]
        step.strategy_errors += [f"{o.name}: {o.error}" for o in report.outcomes if o.failed]
        step.generation = report.generation
    return _observe(box, step)


def _observe(box: Sandbox, step: Step) -> Step:
    rt = box.runtime
    desired = rt.last_desired
    if desired is not None:
        step.version, step.killed = desired.version, desired.killed
        step.config = {name: dict(kv) for name, kv in desired.config.items()}
    step.pending_orders = len(rt.store.pending_orders())
    step.positions = {
        p.market: {"up": str(p.up_shares), "down": str(p.down_shares)}
        for p in rt.store.positions()
        if p.up_shares or p.down_shares
    }
    step.venue_time = rt.venue.server_time()
    return step


def _describe_reload(entry: ManifestEntry) -> str:
    text = f"{entry.kind} {entry.generation[:12]}"
    error = entry.error
    return f"{text} ({error.splitlines()[0][:80]})" if error else text


def summary_rows(report: ReplayReport) -> Sequence[tuple[str, ...]]:
    """One text row per step, for the table."""
    rows = []
    for s in report.steps:
        args = json.dumps(s.args, sort_keys=True) if s.args else ""
        config = ", ".join(f"{n}.{k}={v}" for n, kv in s.config.items() for k, v in kv.items())
        positions = ", ".join(
            f"{m[-10:]} up {p['up']} down {p['down']}" for m, p in s.positions.items()
        )
        notes = "; ".join(
            [*s.reloads, *s.strategy_errors, *([s.message] if s.outcome != "applied" else [])]
        )
        rows.append(
            (
                str(s.step), f"{s.command} {args}".strip(), s.who, s.outcome, str(s.version),
                "yes" if s.paused else "no", str(s.orders_placed), str(s.fills),
                str(s.pending_orders), positions, config, notes,
            )
        )  # fmt: skip
    return rows
