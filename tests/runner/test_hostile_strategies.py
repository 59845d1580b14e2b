"""Hostile strategy code against a REAL runner process (issue 13 cases 1-3).

One runner (its own strategy host) trades a good strategy on the paper venue.
Each hostile file is saved next to it: it is never promoted (rejected by the
publisher's validation in a candidate host, or rolled back and quarantined by
the runner), the runner's heartbeat keeps advancing, and the good strategy
keeps placing orders at the venue.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from runner.reload.tree import read_tree
from state_store.keys import Keys
from state_store.manifest import ManifestEntry, recent
from state_store.store import Store
from tests.runner.processes import (
    Proc,
    our_orders,
    runner_args,
    start_venue,
    wait_for,
    wait_ticking,
)
from tests.runner.test_chaos_kill import EVERY_SECOND

TICK_S = 0.2
KEYS = Keys("default")

TAIL = "\n\ndef decide(view):\n    return []\n"
HOSTILE = {
    # case 1: kills a runner that loads it, validation cannot tell
    "os._exit when a runner is loaded": (
        "import os, sys\nif 'runner.loop' in sys.modules:\n    os._exit(3)\n" + TAIL
    ),
    "os._exit through __import__": "__import__('os')._exit(3)\n" + TAIL,
    "sleep at import": "import time\ntime.sleep(30)\n" + TAIL,
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
    "allocates without bound": ("def decide(view):\n    return [bytearray(2**40)]\n"),
}

# hangs only once live (the dry call at validation is tick 0): the runner must catch it
SPIN_WHEN_LIVE = "def decide(view):\n    while view.tick > 0:\n        pass\n    return []\n"


def heartbeat_tick(client: redis.Redis) -> int:
    return int(client.hget(KEYS.runner("r1"), "tick") or 0)


def entries_for(client: redis.Redis, generation: str) -> list[ManifestEntry]:
    return [e for e in recent(client, KEYS, 200) if e.generation == generation]


def verdict(client: redis.Redis, generation: str) -> ManifestEntry | None:
    """The entry that keeps `generation` from trading: rejected or rolled back."""
    for entry in entries_for(client, generation):
        if entry.kind in ("rejected", "rolled_back"):
            return entry
    return None


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
    try:
        runner.start()
        wait_ticking(real_redis, "r1", runner, 3)
        wait_for("the good strategy trades", lambda: our_orders(store) >= 1)
        for name, source in HOSTILE.items():
            (strategies / "bad.py").write_text(source)
            generation = read_tree(strategies).generation
            ticks, orders = heartbeat_tick(real_redis), our_orders(store)
            wait_for(f"a manifest entry for {name}", lambda g=generation: verdict(real_redis, g))
            entry = verdict(real_redis, generation)
            assert entry is not None and entry.error, name
            kinds = [e.kind for e in entries_for(real_redis, generation)]
            assert "promoted" not in kinds, (name, kinds)
            (strategies / "bad.py").unlink()
            wait_for(
                f"ticks go on after {name}", lambda t=ticks: heartbeat_tick(real_redis) > t + 3
            )
            wait_for(f"good trades after {name}", lambda o=orders: our_orders(store) > o)
        assert not Path("/tmp/nb-hostile-was-here").exists()

        # case 2 live: a decide that hangs once live is cut off, rolled back and quarantined
        (strategies / "bad.py").write_text(SPIN_WHEN_LIVE)
        spinning = read_tree(strategies).generation
        wait_for(
            "the spinning version is rolled back",
            lambda: any(e.kind == "rolled_back" for e in entries_for(real_redis, spinning)),
        )
        assert real_redis.hexists(KEYS.quarantine, spinning)
        fixed = EVERY_SECOND.replace('"s" + str', '"f" + str')
        (strategies / "bad.py").write_text(fixed)
        fixed_gen = read_tree(strategies).generation
        wait_for(
            "the fixed version goes live",
            lambda: any(e.kind == "live" for e in entries_for(real_redis, fixed_gen)),
        )
        live_at = next(e.tick for e in entries_for(real_redis, fixed_gen) if e.kind == "live")
        wait_for(
            "the fixed version places orders",
            lambda: any(
                o.strategy == "bad" for m in store.markets() for o in store.market_orders(m)
            ),
        )
        assert live_at is not None
        assert heartbeat_tick(real_redis) <= live_at + 5, "orders only after many ticks"
        assert runner.proc is not None and runner.proc.poll() is None
        started = time.monotonic()
        assert runner.terminate(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        runner.kill()
        venue.kill()
