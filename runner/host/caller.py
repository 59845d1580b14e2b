"""The tick's seam to the strategy host: views in, checked `StrategyOutcome`s out.

Strategies are named by generation, not passed as functions (their code is in
the host). The markets every view shares are encoded once per tick (the host
gets what changed since its last frame, `market_wire`).
Every decision the host returns is checked here, in the runner, against the
view the runner built (`check_decisions`): the host cannot vouch for its own
output, and strategy code cannot patch the check (it is not in its process).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from runner.host.client import StrategyHost
from runner.host.market_wire import encode_market
from runner.host.replies import CallResult, HostFault
from runner.strategy_call import StrategyOutcome, check_decisions
from state_store.view import View


class HostCaller:
    def __init__(self, host: StrategyHost) -> None:
        self.host = host
        self.faults: list[HostFault] = []  # of the last call_all, for the caller to act on
        self.encode_seconds = 0.0  # of the last call_all (runner side), for bench and status
        self.host_seconds = 0.0  # of the last call_all, as the host measured its own work

    def call_all(self, generation: str, views: Mapping[str, View]) -> list[StrategyOutcome]:
        """Each strategy of `generation` decides on its view, within the host's budget."""
        self.faults, self.encode_seconds, self.host_seconds = [], 0.0, 0.0
        outcomes: list[StrategyOutcome] = []
        for group in _by_markets(views):
            first = views[group[0]]
            began = time.perf_counter()
            markets = [encode_market(m) for m in first.markets]
            self.encode_seconds += time.perf_counter() - began
            calls = [(n, views[n].params, views[n].memory) for n in group]
            report = self.host.decide(generation, first.tick, first.now, markets, calls)
            self.faults += report.faults
            self.host_seconds += report.host_seconds
            outcomes += [_outcome(report.results[n], views[n]) for n in group]
        return outcomes

    def close(self) -> None:
        self.host.close()


def _by_markets(views: Mapping[str, View]) -> list[list[str]]:
    """Strategy names grouped by the markets tuple their views share (one group in a tick)."""
    groups: dict[int, list[str]] = {}
    for name, view in views.items():
        groups.setdefault(id(view.markets), []).append(name)
    return list(groups.values())


def _outcome(result: CallResult, view: View) -> StrategyOutcome:
    if result.not_run:
        return StrategyOutcome(result.name, error=result.error, overrun=True)
    if result.error:
        return StrategyOutcome(result.name, error=result.error)
    try:
        intents, remember = check_decisions(view, list(result.decisions))
    except (ValueError, TypeError, ArithmeticError) as bad:
        return StrategyOutcome(result.name, error=f"broke an invariant: {bad}")
    return StrategyOutcome(result.name, tuple(intents), remember)
