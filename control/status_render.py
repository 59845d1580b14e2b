"""Rich tables for `ctl status` and `ctl config get` (the data comes from control.status_view)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from control.reports import (
    ConfigReport,
    ControlBlock,
    OrderRow,
    PositionRow,
    RiskReport,
    RunnerRow,
    StatusReport,
)
from state_store.audit import AuditEntry
from state_store.manifest import ManifestEntry


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    return table


def _when(ts: Any) -> str:
    if not isinstance(ts, int | float) or ts <= 0:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _paren(text: str) -> str:
    return f" ({escape(text)})" if text else ""


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def control_lines(status: StatusReport) -> list[str]:
    c = status.control
    if status.plane == "redis":
        where = f"redis, {_sync(c)}"
    else:
        where = f"control.json only: Redis unreachable ({escape(status.redis_problem)})"
    bot = escape(status.bot)
    lines = [
        f"bot [bold]{bot}[/bold]  control version [bold]{c.version}[/bold] ({where})",
        f"paused {_yes(c.paused)}  killed {_yes(c.killed)}  "
        f"entries {'allowed' if c.entries_allowed else '[red]blocked[/red]'}  "
        f"reload_seq {c.reload_seq}{_paren(c.reload_module)}"
        f"  flatten_seq {c.flatten_seq}",
        f"updated by {escape(c.updated_by or '-')} at {_when(c.updated_at) or '-'}",
    ]
    if c.file_error:
        lines.append(f"[red]control.json invalid:[/red] {escape(c.file_error)}")
    lines += [f"[yellow]note:[/yellow] {escape(n)}" for n in status.notes]
    return lines


def _sync(c: ControlBlock) -> str:
    """How control.json stands against Redis, in words (no "version None")."""
    if c.in_sync:
        return "in sync"
    if c.file_version is None:
        if c.redis_version is None:
            return "no command given yet: the default state"
        return "control.json not written yet"
    return f"control.json at version {c.file_version}"


def make_console() -> Console:
    """A console; piped output gets a width that fits the runner table."""
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, 160))


def print_status(status: StatusReport, console: Console | None = None) -> None:
    out = console or make_console()
    for line in control_lines(status):
        out.print(line, highlight=False)
    config = status.control.config
    rows = [(s, k, v) for s, kv in sorted(config.items()) for k, v in sorted(kv.items())]
    if rows:
        out.print(table("Config overrides", ["strategy", "key", "value"], rows))
    limits = status.control.risk
    rows = [(s, k, v) for s, kv in sorted(limits.items()) for k, v in sorted(kv.items())]
    if rows:
        out.print(table("Risk limits set", ["scope", "limit", "value"], rows))
    out.print(_runners(status.runners))
    for line in book_lines(status.runners):
        out.print(line, highlight=False)
    if status.positions is None or status.pending_orders is None:
        out.print("positions and pending orders: unknown while Redis is unreachable")
    else:
        out.print(_positions(status.positions))
        out.print(_orders(status.pending_orders))
    out.print(_reloads(status.reloads))
    out.print(_audit(status.audit))


def _runners(runners: list[RunnerRow]) -> Table:
    columns = ["replica", "alive", "pid", "tick", "heartbeat", "paused", "degraded"]
    columns += ["generation", "git sha", "markets", "data", "risk", "control error"]
    columns += ["trading problem"]
    rows = [
        (
            r.replica, _yes(r.alive), r.pid, r.tick,
            f"{r.heartbeat_age_s}s ago" if r.heartbeat_age_s is not None else "",
            _yes(r.paused), _yes(r.degraded), r.generation[:12],
            r.git_sha[:10] + ("+dirty" if r.git_dirty else ""),
            len(r.markets), _data(r), _risk(r), r.control_error, _problem(r),
        )
        for r in runners
    ]  # fmt: skip
    return table("Runners", columns, rows)


def _problem(runner: RunnerRow) -> str:
    """Why a runner places no orders although entries are allowed: a halt, a silent venue."""
    problems = []
    if runner.operational_error:
        since = _when(runner.operational_error_since)
        problems.append(f"HALTED since {since}: {runner.operational_error}")
    if runner.venue_unresponsive_since is not None:
        since = _when(runner.venue_unresponsive_since)
        problems.append(f"venue unresponsive since {since}: {runner.venue_error}")
    if runner.venue_restriction:
        since = _when(runner.venue_restriction_since)
        problems.append(
            f"venue {runner.venue_restriction} since {since}: {runner.venue_restriction_reason}"
        )
    problems += [
        f"window {slug} not on Gamma: {why}" for slug, why in runner.unlisted_windows.items()
    ]
    return "; ".join(problems)


def _risk(runner: RunnerRow) -> str:
    """Loss limits passed, the day's PnL of the bot, and orders refused per limit."""
    parts = (
        [f"LOSS LIMIT PASSED: {', '.join(runner.risk_breached)}"] if runner.risk_breached else []
    )
    if "bot" in runner.risk_day_pnl:
        parts.append(f"day PnL {runner.risk_day_pnl['bot']}")
    parts += [f"refused {name} x{n}" for name, n in sorted(runner.risk_refused.items())]
    return "; ".join(parts)


def print_risk(report: RiskReport, console: Console | None = None) -> None:
    out = console or make_console()
    out.print(f"risk limits at control version {report.version} ({report.plane})")
    rows = [
        (scope, name, value, report.overrides.get(scope, {}).get(name, ""),
         report.descriptions.get(name, ""))
        for scope, limits in report.limits.items()
        for name, value in limits.items()
    ]  # fmt: skip
    out.print(table("Limits in force", ["scope", "limit", "value", "set", "bounds"], rows))
    if report.day_pnl:
        pnl = ", ".join(f"{scope} {value}" for scope, value in report.day_pnl.items())
        out.print(f"day PnL (UTC): {pnl}")
    if report.breached:
        out.print(f"[red]daily loss limit passed:[/red] {', '.join(report.breached)}")
    if report.refused:
        refused = ", ".join(f"{name} x{n}" for name, n in sorted(report.refused.items()))
        out.print(f"orders refused: {refused}")
    for problem in report.problems:
        out.print(f"[yellow]note:[/yellow] {escape(problem)}", highlight=False)


def _data(runner: RunnerRow) -> str:
    """The data guard of one runner: ok, holding (why), and its rebuilds from the venue; on a
    second line where its books came from."""
    guard = runner.data_guard
    text = guard.state
    if guard.repairs:
        last = guard.last_repair
        text += (
            f"; rebuilt {guard.repairs}x from the venue, last: {last.get('reason', '?')} "
            f"({last.get('fills_restored', 0)} fills, {last.get('orders_adopted', 0)} orders)"
        )
    source = _book_source(runner)
    return f"{text}\n{source}" if source else text


def _book_source(runner: RunnerRow) -> str:
    """One word for the data column: where the last tick's books came from."""
    b = runner.books
    if b.stale:
        return "books: STALE"
    if b.stream and b.rest:
        return "books: stream+rest"
    if b.stream or b.rest:
        return "books: stream" if b.stream else "books: rest"
    return ""


def book_lines(runners: list[RunnerRow]) -> list[str]:
    """Under the runner table, one line per runner with a market channel (wraps at 80 columns):
    how many books came from the stream, from REST, stale; entries refused on stale books."""
    lines = []
    for r in runners:
        b = r.books
        if not (r.alive and b.market_stream):
            continue
        counts = f"{b.stream} from the stream, {b.rest} over REST, {b.stale} stale"
        lines.append(
            f"books of {escape(r.replica)}: {counts} (market stream {b.market_stream}); "
            f"{b.entries_refused} entries refused on stale books, {b.resyncs} resyncs, "
            f"{b.rest_polls} ticks with REST books"
        )
    return lines


def _positions(positions: list[PositionRow]) -> Table:
    columns = ["market", "up_shares", "down_shares", "cash", "realized_pnl"]
    return table("Positions", columns, ([getattr(p, c) for c in columns] for p in positions))


def _orders(orders: list[OrderRow]) -> Table:
    columns = ["client_order_id", "market", "strategy", "outcome", "side", "price", "size"]
    columns += ["filled", "status"]
    return table("Pending orders", columns, ([getattr(o, c) for c in columns] for o in orders))


def _reloads(reloads: list[ManifestEntry]) -> Table:
    columns = ["when", "kind", "ok", "generation", "modules", "replica", "tick", "error"]
    rows = (
        (
            _when(e.ts), e.kind, _yes(e.ok), e.generation[:12], ",".join(e.modules), e.replica,
            e.tick, e.error[:80],
        )
        for e in reloads
    )  # fmt: skip
    return table("Recent reloads", columns, rows)


def _audit(entries: list[AuditEntry]) -> Table:
    columns = ["when", "who", "command", "args", "version", "plane"]
    rows = (
        (
            _when(e.ts), e.who, e.command,
            json.dumps(e.args, sort_keys=True) if e.args else "",
            f"{e.old_version} -> {e.new_version}", e.plane,
        )
        for e in entries
    )  # fmt: skip
    return table("Recent control changes", columns, rows)


def print_config(report: ConfigReport, console: Console | None = None) -> None:
    out = console or make_console()
    out.print(f"config at control version {report.version} ({report.plane})")
    rows = []
    for name, info in report.strategies.items():
        for key, default in info.defaults.items():
            override = info.overrides.get(key)
            rows.append((name, key, default, "" if override is None else override,
                         info.effective[key]))  # fmt: skip
        rows += [(name, key, "", info.overrides[key], "(unknown key)")
                 for key in info.unknown_overrides]  # fmt: skip
    out.print(table("Parameters", ["strategy", "key", "default", "override", "in force"], rows))
    for problem in report.problems:
        out.print(f"[yellow]note:[/yellow] {escape(problem)}", highlight=False)
    if report.orphan_overrides:
        out.print(f"overrides for unknown strategies: {', '.join(report.orphan_overrides)}")
