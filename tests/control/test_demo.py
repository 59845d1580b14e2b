"""`neverblink demo`: the table of children, and a whole run that trades and stops cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis

from control import demo
from control.demo_summary import summary_line
from state_store.embedded import ensure_embedded_redis, stop_embedded_redis
from state_store.private_redis import free_port
from state_store.settings import Settings
from state_store.store import Store
from tests.runner.strategy_sources import always_buy


def options(tmp_path: Path, **more: object) -> demo.DemoOptions:
    settings = Settings(tmp_path / "home", None, "b1", tmp_path / "strategies")
    return demo.DemoOptions(settings, **more)  # type: ignore[arg-type]


def test_children_come_from_one_table_and_missing_commands_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "available_commands", lambda: {"venue", "run", "worker"})
    notes: list[str] = []
    specs = demo.child_specs(options(tmp_path, replicas=3), "http://v", 9, notes.append)
    assert [s.name for s in specs] == ["venue", "runner-1", "runner-2", "runner-3", "worker"]
    assert any("neverblink watch" in n for n in notes) and any("serve" in n for n in notes)
    runner = specs[1].argv
    assert runner[:4] == [sys.executable, "-m", "control", "run"]
    assert "--replica" in runner and runner[runner.index("--replica") + 1] == "r1"
    for flag, value in (("--home", str(tmp_path / "home")), ("--bot", "b1")):
        assert all(s.argv[s.argv.index(flag) + 1] == value for s in specs)
    assert all("--redis-url" not in s.argv for s in specs)  # the home's embedded Redis


def test_the_example_strategies_are_copied_into_a_missing_folder(tmp_path: Path) -> None:
    notes: list[str] = []
    demo.ensure_strategies(tmp_path / "strategies", notes.append)
    assert (tmp_path / "strategies" / "momentum.py").exists() and notes
    demo.ensure_strategies(tmp_path / "strategies", notes.append)
    assert len(notes) == 1


def leftovers(home: Path) -> list[psutil.Process]:
    """Processes whose command line names this home (the demo's children, its Redis)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(home) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def run_demo(home: Path, strategies: Path, seconds: int) -> str:
    port = free_port()
    args = [
        sys.executable, "-m", "control", "demo", "--home", str(home), "--strategies",
        str(strategies), "--duration", str(seconds), "--port", str(port),
    ]  # fmt: skip
    run = subprocess.run(args, capture_output=True, text=True, timeout=100)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    # the URL is printed once Mission Control listens, not before
    listening = out.index(f"Uvicorn running on http://127.0.0.1:{port}")
    assert listening < out.index(f"[demo] Mission Control: http://127.0.0.1:{port}/"), out
    return out


@pytest.mark.chaos
@pytest.mark.timeout(200)
def test_demo_starts_everything_trades_and_stops_cleanly(tmp_path: Path) -> None:
    home, strategies = tmp_path / "home", tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "always.py").write_text(always_buy("demo"))
    out = run_demo(home, strategies, 20)
    for line in ("[demo] embedded Redis started", "[demo] stopped", "[demo 00:"):
        assert line in out, out
    for replica in ("r1", "r2"):  # SIGTERM: the tick finished, the leases released
        assert f"runner {replica} stopped after tick" in out, out
    assert leftovers(home) == [], out  # whatever did not stop in time was killed
    socket = ensure_embedded_redis(home)  # the demo stopped the Redis it started: look inside
    client = redis.Redis(unix_socket_path=str(socket), decode_responses=True)
    try:
        store = Store(client, "default")
        orders = [o for m in store.markets() for o in store.market_orders(m)]
        assert orders, out
        assert {o.replica for o in orders} <= {"r1", "r2"}
    finally:
        client.close()
        stop_embedded_redis(home)
    # a second demo in the same home: the first run's waiting jobs (at least the next
    # reconciliation) go to this run's venue, none is tried against the first run's URL
    again = run_demo(home, strategies, 12)
    assert "waiting job(s) of an earlier run now use this venue" in again, again
    assert "ConnectError" not in again and "Traceback" not in again, again
    assert leftovers(home) == [], again


def test_the_summary_line_reads_status_json_and_redis(
    tmp_path: Path, fake_redis: redis.Redis
) -> None:
    settings = Settings(tmp_path, None, "default", tmp_path / "strategies")
    now = time.time()
    status = {
        "runners": {
            "r1": {"tick": 7, "markets": ["a", "b"], "orders_created": 3, "heartbeat": now},
            "r9": {"tick": 1, "markets": [], "heartbeat": now - 3600},  # an earlier run
        },
        "reloads": [{"ts": now, "kind": "live", "ok": True, "generation": "c79571dbe2a4"}],
    }
    settings.status_file.write_text(json.dumps(status))
    line = summary_line(settings, fake_redis, 65)
    assert line.startswith("[demo 01:05] r1 tick 7 (2 mkts) | orders 3 fills 0")
    assert "r9" not in line and "last reload live c79571db ok" in line
    assert "realized PnL +0.00 over 0 settled" in line


def test_the_summary_line_shows_pause_degraded_and_rejected_reloads(
    tmp_path: Path, fake_redis: redis.Redis
) -> None:
    settings = Settings(tmp_path, None, "default", tmp_path / "strategies")
    now = time.time()
    status: dict[str, Any] = {
        "runners": {
            "r1": {"tick": 7, "markets": ["a"], "heartbeat": now, "paused": True},
            "r2": {"tick": 9, "markets": [], "heartbeat": now, "degraded": True},
        },
        "reloads": [
            {"ts": now - 600, "kind": "live", "ok": True, "generation": "0ld0ld0ld"},
            {"ts": now, "kind": "rejected", "ok": False, "generation": "badbadbad",
             "error": "SyntaxError: '(' was never closed (momentum.py, line 40)"},
        ],
    }  # fmt: skip
    settings.status_file.write_text(json.dumps(status))
    line = summary_line(settings, fake_redis, 5, since=now - 60)
    assert "r1 tick 7 (1 mkts) PAUSED" in line
    assert "r2 tick 9 (0 mkts) DEGRADED (Redis lost: no new orders)" in line
    assert "last reload rejected badbadba REJECTED: SyntaxError: '(' was never closed" in line
    status["reloads"] = status["reloads"][:1]  # only an earlier run's reload
    settings.status_file.write_text(json.dumps(status))
    assert "reload" not in summary_line(settings, fake_redis, 5, since=now - 60)
