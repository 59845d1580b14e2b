"""Strategy time budget and strategy memory, through real ticks."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from runner.reload import read_tree
from runner.tick import run_tick
from state_store.manifest import recent
from tests.runner.conftest import RuntimeFactory

SLOW = """
def decide(view):
    while view.tick > 0:  # the dry call at validation is tick 0: this one goes live
        pass
    return []
"""

MEMORY_V1 = """
from state_store.view import Remember

MEMORY_VERSION = 1


def decide(view):
    seen = int(view.memory.get("ticks", "0"))
    return [Remember({"ticks": str(seen + 1)})]
"""

MEMORY_V2 = """
from state_store.view import Remember

MEMORY_VERSION = 2


def migrate(memory, from_version):
    return {"tick_count": memory.get("ticks", "0")}


def decide(view):
    seen = int(view.memory.get("tick_count", "0"))
    return [Remember({"tick_count": str(seen + 1)})]
"""


def test_an_overrunning_decide_is_cut_off_with_its_host_counted_and_shown(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    (strategies_dir / "slow.py").write_text(SLOW)
    rt = make_runtime()
    began = time.monotonic()
    report = run_tick(rt)
    assert time.monotonic() - began < 1.0, "the tick waited for the slow strategy"
    slow = next(o for o in report.outcomes if o.name == "slow")
    assert "did not return within" in slow.error and "host killed" in slow.error
    assert rt.caller.host.restarts == 1
    section = json.loads(rt.settings.status_file.read_text())["runners"]["r1"]
    assert section["strategy_errors"]["slow"] == 1


def test_memory_persists_and_migrates_when_its_version_changes(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    for path in strategies_dir.glob("*.py"):
        path.unlink()
    counter = strategies_dir / "counter.py"
    counter.write_text(MEMORY_V1)
    rt = make_runtime(probation_ticks=1)
    for _ in range(3):
        run_tick(rt)
    memory_key = rt.store.keys.memory("counter")
    assert rt.client.hgetall(memory_key) == {"ticks": "3", "_version": "1"}
    tmp = counter.with_name(".counter.tmp")
    tmp.write_text(MEMORY_V2)
    os.replace(tmp, counter)
    generation = read_tree(strategies_dir).generation
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        run_tick(rt)
        if any(e.generation == generation and e.kind == "live"
               for e in recent(rt.client, rt.store.keys)):  # fmt: skip
            break
        time.sleep(0.1)
    run_tick(rt)
    memory = rt.client.hgetall(memory_key)
    assert memory["_version"] == "2" and "ticks" not in memory
    assert int(memory["tick_count"]) >= 4
