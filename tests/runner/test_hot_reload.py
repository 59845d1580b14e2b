"""Trading on the paper venue while the strategy code changes under the runner."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

import pytest

from exchange.client import ClobClient
from runner.orders import poll_fills
from runner.reload import read_tree
from runner.runtime import Runtime
from runner.tick import TickReport, run_tick
from state_store.manifest import ManifestEntry, recent
from tests.runner.conftest import RuntimeFactory
from tests.runner.strategy_sources import always_buy
from tests.runner.test_tick import ledger, only_always

HELPER = "SIZE = {size}\n"
USES_HELPER = """
from decimal import Decimal

from state_store.models import Intent

from . import _sizes

PARAMS = {{"tag": "{tag}"}}


def decide(view):
    out = []
    for m in view.markets:
        ask = m.up.best_ask
        if ask is None or ask >= Decimal("0.99"):
            continue
        key = "h-" + view.params["tag"] + "-" + str(_sizes.SIZE)
        out.append(Intent(key, m.market, "Up", "BUY", ask, Decimal(_sizes.SIZE), "FAK"))
    return out
"""


def save(path: Path, text: str) -> None:
    """An editor's save: write a temp file, close it, rename it over the original."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def tick_until_live(rt: Runtime, generation: str, reports: list[TickReport]) -> int:
    """Tick at 100 ms until `generation` runs; returns the tick it went live."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        reports.append(run_tick(rt))
        for entry in reports[-1].reloads:
            if entry.kind == "live" and entry.generation == generation:
                assert entry.tick is not None
                return entry.tick
        time.sleep(0.1)
    raise AssertionError(f"generation {generation} never went live")


@pytest.mark.timeout(300)
def test_fifty_rewrites_while_trading(
    make_runtime: RuntimeFactory, strategies_dir: Path, venue: ClobClient
) -> None:
    only_always(strategies_dir)
    (strategies_dir / "_sizes.py").write_text(HELPER.format(size=5))
    rt = make_runtime(probation_ticks=2)
    reports: list[TickReport] = []
    went_live: dict[str, int] = {}
    for version in range(50):
        if version % 5 == 4:  # every fifth change is to the helper: its importer reloads with it
            save(strategies_dir / "_sizes.py", HELPER.format(size=5 + version % 3))
        else:
            save(strategies_dir / "always.py", USES_HELPER.format(tag=f"v{version}"))
        generation = read_tree(strategies_dir).generation
        went_live[generation] = tick_until_live(rt, generation, reports)
    ticks = [r.tick for r in reports]
    assert ticks == list(range(1, len(ticks) + 1)), "a tick was skipped"
    assert len(went_live) == 50
    manifest = {(e.generation, e.tick) for e in recent(rt.client, rt.store.keys, 500)
                if e.kind == "live"}  # fmt: skip
    assert set(went_live.items()) <= manifest
    for _ in range(5):  # let the last fills arrive
        run_tick(rt)
    poll_fills(rt.store, rt.venue)  # fills of an order the last tick placed (a new window)
    orders = [o for m in rt.store.markets() for o in rt.store.market_orders(m)]
    assert len({o.intent_key for o in orders}) > 10, "new code versions did not trade"
    venue_ledger = ledger(venue)
    for order in orders:
        assert order.filled == venue_ledger.get(order.venue_order_id, Decimal(0))
    for market in rt.store.markets():
        filled = sum((o.filled for o in rt.store.market_orders(market)), Decimal(0))
        assert rt.store.position(market).up_shares == filled


BAD_VERSIONS = {
    "syntax error": "def decide(view)\n    return []\n",
    "import error": "import no_such_module_here\n\ndef decide(view):\n    return []\n",
    "import that hangs": "while True:\n    pass\n\ndef decide(view):\n    return []\n",
    "missing decide": "PARAMS = {'size': 5}\n",
    "mutable global state": "SEEN = []\n\ndef decide(view):\n    return []\n",
}


@pytest.mark.timeout(120)
def test_bad_versions_never_go_live_and_the_old_one_keeps_trading(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    only_always(strategies_dir)
    rt = make_runtime(validate_timeout_s=1.0)
    good = rt.reloader.current.generation
    for name, source in BAD_VERSIONS.items():
        save(strategies_dir / "always.py", source)
        bad = read_tree(strategies_dir).generation
        rejected = wait_for_entry(rt, "rejected", bad)
        assert rejected.error, name
        assert rt.reloader.current.generation == good, name
    half = strategies_dir / "always.py"
    with open(half, "w") as writer:  # a writer that paused halfway, file still open
        writer.write("def decide(view):\n    return [")
        writer.flush()
        held = wait_for_entry(rt, "held", "")  # the publisher holds it, and says why
        assert "still open for writing" in held.error
        for _ in range(10):
            report = run_tick(rt)
            assert report.generation == good
            time.sleep(0.1)
    created_before = rt.counters.orders_created
    save(strategies_dir / "always.py", always_buy("v1"))  # back to the good bytes
    for _ in range(10):
        run_tick(rt)
        time.sleep(0.05)
    assert rt.reloader.current.generation == good
    assert rt.counters.orders_created >= created_before


def wait_for_entry(rt: Runtime, kind: str, generation: str) -> ManifestEntry:
    """Tick until the manifest has a `kind` entry for `generation` (seen in any tick so far)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for entry in recent(rt.client, rt.store.keys, 500):
            if entry.kind == kind and entry.generation == generation:
                return entry
        run_tick(rt)
        time.sleep(0.1)
    raise AssertionError(f"no {kind} entry for {generation}")


@pytest.mark.timeout(60)
def test_a_version_that_raises_is_rolled_back_within_probation(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    only_always(strategies_dir)
    rt = make_runtime(probation_ticks=5)
    good = rt.reloader.current.generation
    save(strategies_dir / "always.py", always_buy("v2").replace(
        "    out = []", "    raise RuntimeError('bad version')"))  # fmt: skip
    bad = read_tree(strategies_dir).generation
    wait_for_entry(rt, "live", bad)
    rolled = wait_for_entry(rt, "rolled_back", bad)
    assert "bad version" in str(rolled.error)
    assert rt.reloader.current.generation == good
    assert rt.client.hexists(rt.store.keys.quarantine, bad)
