"""Strategy host fixtures: a real host process per test, trees from source text, views."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from runner.host.bench import sample_markets
from runner.host.caller import HostCaller
from runner.host.client import StrategyHost
from runner.host.guard import HostLimits
from runner.reload.tree import Tree, make_tree
from runner.strategy_call import StrategyOutcome
from state_store.view import View

# Generous for a loaded 2-core machine: a trivial decide takes about a millisecond.
BUDGET_S = 1.0
LOAD_TIMEOUT_S = 3.0
MEMORY_MB = 512

GOOD = """
from decimal import Decimal

from state_store.models import Intent

PARAMS = {"size": 5}


def decide(view):
    out = []
    for m in view.markets:
        if m.up.best_ask is not None:
            out.append(Intent("buy", m.market, "Up", "BUY", m.up.best_ask,
                              Decimal(view.params["size"]), "FAK"))
    return out
"""


def tree(**files: str) -> Tree:
    """A strategies tree from `name=source` pairs (name without .py)."""
    return make_tree(Path("/nb-test/strategies"), {f"{n}.py": s.encode() for n, s in files.items()})


def views(*names: str, markets: int = 3, tick: int = 1) -> dict[str, View]:
    shared = sample_markets(markets)
    return {n: View(n, shared[0].now, tick, shared, {"size": 5}, {}) for n in names}


def outcomes(caller: HostCaller, generation: str, *names: str) -> Mapping[str, StrategyOutcome]:
    return {o.name: o for o in caller.call_all(generation, views(*names))}


@pytest.fixture
def host() -> Iterator[StrategyHost]:
    made = StrategyHost(
        budget_s=BUDGET_S, load_timeout_s=LOAD_TIMEOUT_S, limits=HostLimits(memory_mb=MEMORY_MB)
    )
    yield made
    made.close()


@pytest.fixture
def caller(host: StrategyHost) -> HostCaller:
    return HostCaller(host)


@pytest.fixture
def good(host: StrategyHost) -> str:
    """A good generation, loaded and live; its generation id."""
    loaded = host.load(tree(good=GOOD))
    assert loaded.ok, loaded.problems
    return loaded.generation
