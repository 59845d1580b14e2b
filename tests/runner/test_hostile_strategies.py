"""Hostile strategy code against a REAL runner process (issue 13 cases 1-3).

One runner (its own strategy host, its in-process publisher) trades a good
strategy on the paper venue. Each hostile file is saved next to it, one at a
time: it is never promoted (rejected by the publisher's validation in a
candidate host, or rolled back and quarantined by the runner once live), the
runner's loop misses at most one tick while it is there, and the good strategy
keeps placing orders at the venue.

Missed ticks are the runner's own count (status `tick_gaps`, see
`runner.tick_timing.TickGaps`): the loop starts a tick every period; a tick
that starts `gap` seconds after the previous one missed `floor(gap/period) - 1`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from control.bench.roomy_risk import ROOMY_RISK, set_risk_limits
from runner.reload.tree import read_tree
from state_store.keys import Keys
from state_store.manifest import ManifestEntry, recent
from state_store.settings import Settings
from state_store.status import RunnerStatus, read_runner
from state_store.store import Store
from tests.runner.processes import Proc, runner_args, start_venue, wait_for, wait_ticking
from tests.runner.test_chaos_kill import EVERY_SECOND

TICK_S = 0.2
KEYS = Keys("default")

TAIL = "\n\ndef decide(view):\n    return []\n"
# Rejected by the publisher's validation: statically, at import in a candidate host, or by
# the candidate's dry decide (tick 0). The runner never loads them.
REJECTED = {
    # case 1: kills a runner that loads it, validation cannot tell
    "os._exit when a runner is loaded": (
        "import os, sys\nif 'runner.loop' in sys.modules:\n    os._exit(3)\n" + TAIL
    ),
    "os._exit through __import__": "__import__('os')._exit(3)\n" + TAIL,
    "sleep at import": "import time\ntime.sleep(30)\n" + TAIL,
    "spins forever at import": "while True:\n    pass\n" + TAIL,
    "starts a thread at import": (
        "__import__('threading').Thread(target=lambda: None).start()\n" + TAIL
    ),
    "writes a file at import": "open('/tmp/nb-hostile-was-here', 'w').write('x')\n" + TAIL,
    "allocates without bound at import": "HOARD = bytearray(2**40)\n" + TAIL,
    # case 2
    "spins forever in decide": "def decide(view):\n    while True:\n        pass\n",
    # case 3
    "monkeypatches a runner module": (
        "def decide(view):\n"
        "    m = __import__('runner.strategy_call', fromlist=['x'])\n"
        "    m.check_intent = lambda *a: None\n"
        "    return []\n"
    ),
    "leaks threads": (
        "def decide(view):\n"
        "    __import__('threading').Thread(target=lambda: None).start()\n"
        "    return []\n"
    ),
    "opens a socket": (
        "def decide(view):\n"
        "    __import__('socket').create_connection(('127.0.0.1', 9))\n"
        "    return []\n"
    ),
    "writes a file": (
        "def decide(view):\n    open('/tmp/nb-hostile-was-here', 'w').write('x')\n    return []\n"
    ),
}


def once_live(body: str) -> str:
    """A decide that behaves at validation (its dry call is tick 0) and runs `body` once live."""
    return f"def decide(view):\n    if view.tick > 0:\n        {body}\n    return []\n"


# Pass validation, then misbehave in the runner's live host: rolled back and quarantined.
ROLLED_BACK = {
    "allocates without bound": "def decide(view):\n    return [bytearray(2**40)]\n",
    "calls os._exit once live": once_live("__import__('os')._exit(3)"),
    "spins forever once live": once_live("while True: pass"),
    "leaks a thread once live": once_live(
        "__import__('threading').Thread(target=lambda: None).start()"
    ),
    "opens a socket once live": once_live(
        "__import__('socket').create_connection(('127.0.0.1', 9))"
    ),
    "writes a file once live, hiding the refusal": once_live(
        "try:\n            open('/tmp/nb-hostile-was-here', 'w').write('x')\n"
        "        except Exception:\n            pass"
    ),
    "monkeypatches a runner module once live": once_live(
        "__import__('runner.strategy_call', fromlist=['x']).check_intent = lambda *a: None"
    ),
}


# hangs only once live, as "spins forever once live" but another file (another generation)
SPIN_WHEN_LIVE = "def decide(view):\n    while view.tick > 0:\n        pass\n    return []\n"


def status(client: redis.Redis) -> RunnerStatus:
    section = read_runner(client, KEYS, "r1")
    assert section is not None, "the runner's heartbeat expired"
    return section


def entries_for(client: redis.Redis, generation: str) -> list[ManifestEntry]:
    return [e for e in recent(client, KEYS, 200) if e.generation == generation]


def verdict(client: redis.Redis, generation: str) -> ManifestEntry | None:
    """The entry that keeps `generation` from trading: rejected or rolled back."""
    for entry in entries_for(client, generation):
        if entry.kind in ("rejected", "rolled_back"):
            return entry
    return None


def orders_of(store: Store, strategy: str) -> int:
    return sum(o.strategy == strategy for m in store.markets() for o in store.market_orders(m))


class Bench:
    """The running runner, its folder and Redis: one hostile file at a time."""

    def __init__(self, client: redis.Redis, store: Store, folder: Path, runner: Proc) -> None:
        self.client, self.store, self.folder, self.runner = client, store, folder, runner

    def survives(self, name: str, source: str, kind: str) -> None:
        """Save `source` as bad.py until its `kind` verdict, remove it, and check the loop
        missed at most one tick meanwhile and the good strategy kept trading."""
        before, good = status(self.client), orders_of(self.store, "good")
        generation = self.save(source)
        wait_for(f"{kind} {name}", lambda: verdict(self.client, generation) is not None)
        entry = verdict(self.client, generation)
        assert entry is not None and entry.kind == kind and entry.error, (name, entry)
        kinds = [e.kind for e in entries_for(self.client, generation)]
        assert "promoted" not in kinds, (name, kinds)
        if kind == "rolled_back":
            assert self.client.hexists(KEYS.quarantine, generation), name
        (self.folder / "bad.py").unlink()
        wait_for(f"ticks go on after {name}", lambda: status(self.client).tick > before.tick + 3)
        wait_for(f"good trades after {name}", lambda: orders_of(self.store, "good") > good)
        self.missed_at_most_one(name, before)

    def missed_at_most_one(self, name: str, before: RunnerStatus) -> None:
        after = status(self.client)
        assert after.pid == before.pid, f"the runner restarted during {name}"
        missed = after.tick_gaps.missed - before.tick_gaps.missed
        assert missed <= 1, (
            f"{name}: the loop missed {missed} ticks between ticks {before.tick} and "
            f"{after.tick} (longest gap so far {after.tick_gaps.longest_gap_s:.3f} s "
            f"before tick {after.tick_gaps.longest_gap_tick}, period {TICK_S} s)"
        )

    def save(self, source: str) -> str:
        (self.folder / "bad.py").write_text(source)
        return read_tree(self.folder).generation


@pytest.mark.processes
@pytest.mark.timeout(300)
def test_hostile_strategies_never_stop_a_real_runner(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "good.py").write_text(EVERY_SECOND)
    venue, venue_url = start_venue(tmp_path, redis_url, window_seconds=60)
    home = tmp_path / "home"
    args = runner_args("r1", home, redis_url, venue_url, strategies, TICK_S)
    runner = Proc([*args, "--probation", "5"], tmp_path / "runner.log")
    store = Store(real_redis, "default")
    bench = Bench(real_redis, store, strategies, runner)
    # the good strategy trades all through: past the default daily loss limit, which pauses
    set_risk_limits(Settings(home, redis_url, "default", strategies), ROOMY_RISK)
    try:
        runner.start()
        wait_ticking(real_redis, "r1", runner, 3)
        wait_for("the good strategy trades", lambda: orders_of(store, "good") >= 1)
        for name, source in REJECTED.items():
            bench.survives(name, source, "rejected")
        for name, source in ROLLED_BACK.items():
            bench.survives(name, source, "rolled_back")
        assert not Path("/tmp/nb-hostile-was-here").exists()

        # case 2 live: after a decide that hung once live, the fixed version trades at once
        before = status(real_redis)
        spinning = bench.save(SPIN_WHEN_LIVE)
        wait_for(
            "the spinning version is rolled back",
            lambda: any(e.kind == "rolled_back" for e in entries_for(real_redis, spinning)),
        )
        assert real_redis.hexists(KEYS.quarantine, spinning)
        fixed_gen = bench.save(EVERY_SECOND.replace('"s" + str', '"f" + str'))
        wait_for(
            "the fixed version goes live",
            lambda: any(e.kind == "live" for e in entries_for(real_redis, fixed_gen)),
        )
        live_at = next(e.tick for e in entries_for(real_redis, fixed_gen) if e.kind == "live")
        wait_for("the fixed version places orders", lambda: orders_of(store, "bad") > 0)
        assert live_at is not None
        assert status(real_redis).tick <= live_at + 5, "orders only after many ticks"
        bench.missed_at_most_one("a hang, then its fix", before)
        assert runner.proc is not None and runner.proc.poll() is None
        started = time.monotonic()
        assert runner.terminate(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        runner.kill()
        venue.kill()
