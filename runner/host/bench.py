"""What the strategy host adds to a tick: decide through the host vs decide in-process, one run.

Each tick builds the views of `markets` markets (each with an open order and a
position, as a busy bot has), then calls every strategy of the folder twice,
in alternating order: in-process (the functions loaded here, decide + the
runner's check) and through the host (encode once, one frame out, one frame
back, decode, the same check). The figure that matters is the per-tick
difference, paired within the tick; median and p99 over `ticks`. Its parts:
the runner's encoding, the host's own work (decode + decides, as it measured
it), and the rest (transfer, and waiting to be scheduled). `empty_round_trip`
is a ping to the host at the same point of the tick: what any blocking call
(a Redis round trip too) costs the tick on this machine at this load.
`neverblink bench host` runs it (so does `python -m runner.host.bench`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from runner.host.caller import HostCaller
from runner.host.client import StrategyHost
from runner.reload.isolation import Isolation
from runner.reload.loader import load_tree, unload
from runner.reload.tree import make_tree, read_tree
from runner.strategy_call import check_decisions
from state_store.models import Order, OrderStatus, Position
from state_store.view import BookTop, MarketView, View

WINDOW_START = 1_764_000_000.0


def sample_markets(
    n: int, now: float = WINDOW_START + 250, orders: int = 1
) -> tuple[MarketView, ...]:
    """`n` 5-minute windows late in their life, books around 0.5; every tenth is flat (no
    position, no order), so pair_arb buys both sides there; the rest hold shares and
    `orders` resting orders each."""
    out = []
    for i in range(n):
        market = f"btc-updown-5m-{int(WINDOW_START) + 300 * i}"
        start = WINDOW_START
        up_ask = Decimal("0.40") + Decimal(i % 20) / 100
        down_ask = Decimal("0.95") - up_ask
        flat = i % 10 == 0
        shares = Decimal(0) if flat else Decimal(10)
        out.append(
            MarketView(
                market=market,
                asset="btc",
                interval="5m",
                start_ts=start,
                end_ts=start + 300,
                now=now,
                up=BookTop(up_ask - Decimal("0.02"), up_ask, Decimal(120), Decimal(80)),
                down=BookTop(down_ask - Decimal("0.02"), down_ask, Decimal(95), Decimal(60)),
                position=Position(market, shares, Decimal(0), -shares / 2, shares / 2),
                open_orders=() if flat else tuple(_order(market, k) for k in range(orders)),
                start_price=Decimal("97000.5"),
                reference_price=Decimal(97010 + i % 7),
            )
        )
    return tuple(out)


def _order(market: str, k: int) -> Order:
    return Order(
        f"nb{market[-6:]}{k:04d}",
        market,
        "pair_arb",
        f"key-{k}",
        "Down",
        f"down-{market}",
        "BUY",
        Decimal("0.31"),
        Decimal(5),
        "GTC",
        OrderStatus.LIVE,
        Decimal(0),
        f"0xv{k}",
        "",
        "r1",
        3,
        WINDOW_START + 10,
        WINDOW_START + 11,
    )


def _views(
    names: list[str], tick: int, count: int, params: Mapping[str, Mapping[str, Any]]
) -> dict[str, View]:
    markets = sample_markets(count, WINDOW_START + 250 + tick * 1e-3)
    return {n: View(n, markets[0].now, tick, markets, params[n], {}) for n in names}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "min_ms": round(min(values) * 1000, 3),  # the cost when nothing else wanted the CPU
        "median_ms": round(statistics.median(values) * 1000, 3),
        "p99_ms": round(_percentile(values, 0.99) * 1000, 3),
    }


def bench_host(
    strategies: Path, *, markets: int = 100, ticks: int = 300, budget_s: float = 1.0
) -> dict[str, Any]:
    """Per-tick decide cost, in-process vs through the host, paired in one run."""
    tree = read_tree(strategies)
    version = load_tree(tree)
    host = StrategyHost(budget_s=budget_s)
    caller = HostCaller(host)
    try:
        loaded = host.load(tree)
        if not loaded.ok:
            raise RuntimeError(f"the host rejected {strategies}: {loaded.problems}")
        names = sorted(version.strategies)
        params = {n: version.strategies[n].params for n in names}
        inproc: list[float] = []
        hosted: list[float] = []
        parts: dict[str, list[float]] = {"encode": [], "host_compute": [], "transport": []}
        pings: list[float] = []
        intents = 0
        for tick in range(ticks):
            views = _views(names, tick, markets, params)
            pings.append(host.ping())  # any blocking round trip after CPU work, for scale
            runs: list[tuple[list[float], Callable[[], int]]] = [
                (inproc, lambda v=views: _in_process(version.strategies, v)),  # type: ignore[misc]
                (hosted, lambda v=views: _hosted(caller, tree.generation, v)),  # type: ignore[misc]
            ]
            for samples, run in runs if tick % 2 == 0 else runs[::-1]:
                began = time.perf_counter()
                intents = run()
                samples.append(time.perf_counter() - began)
            parts["encode"].append(caller.encode_seconds)
            parts["host_compute"].append(caller.host_seconds)
            parts["transport"].append(hosted[-1] - caller.encode_seconds - caller.host_seconds)
        added = [h - i for h, i in zip(hosted, inproc, strict=True)]
        return {
            "markets": markets,
            "ticks": ticks,
            "strategies": names,
            "intents_per_tick": intents,
            "in_process": _summary(inproc),
            "host": _summary(hosted),
            "added": _summary(added),
            "host_parts": {k: _summary(v) for k, v in parts.items()},
            "empty_round_trip": _summary(pings),
            "host_restarts": host.restarts,
        }
    finally:
        caller.close()
        unload(version.package)


def bench_reload(strategies: Path, *, rounds: int = 20) -> dict[str, Any]:
    """Validate-and-load latency of a changed tree: the in-process path vs the host's, one run.

    In-process (what runners did before the host): static checks, the import in a
    forkserver child (`Isolation`), then `load_tree` in the runner's own
    interpreter. Host (what `validate_tree` and a runner's reload do now, each
    once): `prepare` (static checks,
    a warm spare loads the live generation and the new one, a dry decide) then
    `adopt`. Each round changes one byte of a comment, so the tree is new.
    """
    base = read_tree(strategies)
    sources = {f.name: f.data for f in base.files}
    first = sorted(sources)[0]
    host = StrategyHost(budget_s=1.0)
    isolation = Isolation()
    today: list[float] = []
    hosted: list[float] = []
    try:
        live = host.load(base)
        if not live.ok:
            raise RuntimeError(f"the host rejected {strategies}: {live.problems}")
        for n in range(rounds):
            changed = dict(sources, **{first: sources[first] + f"\n# round {n}\n".encode()})
            tree = make_tree(strategies, changed)
            began = time.perf_counter()
            report = isolation.run(tree, 5.0, ())
            version = load_tree(tree) if not report.problems else None
            today.append(time.perf_counter() - began)
            if version is not None:
                unload(version.package)
            host.warm(10.0)  # reloads are seconds apart: the spare is armed by then
            began = time.perf_counter()
            prepared = host.prepare(tree, keep=[live.generation])
            host.adopt(prepared)
            hosted.append(time.perf_counter() - began)
            host.unload(tree.generation)
        return {"rounds": rounds, "in_process": _summary(today), "host": _summary(hosted)}
    finally:
        isolation.close()
        host.close()


SPIN = "def decide(view):\n    while view.markets:\n        pass\n    return []\n"


def bench_hang(strategies: Path, *, rounds: int = 10, budget_s: float = 0.25) -> dict[str, Any]:
    """How long a tick waits for a strategy that never returns: the budget + kill + restart.

    Each round, a generation holding the folder's strategies and a spinning one
    decides on 100 markets (the host is killed at the budget and replaced by
    the spare), then the good generation decides on the restarted host.
    """
    base = read_tree(strategies)
    sources = {f.name: f.data for f in base.files}
    bad = make_tree(strategies, {**sources, "spin.py": SPIN.encode()})
    host = StrategyHost(budget_s=budget_s)
    caller = HostCaller(host)
    over: list[float] = []
    first_good: list[float] = []
    try:
        for tree in (base, bad):
            if not host.load(tree).ok:  # the dry call sees no markets yet: spin passes
                raise RuntimeError(f"the host rejected {tree.generation}")
        names = sorted(n for n in host.loaded_strategies(bad.generation))
        params = {n: host.loaded_strategies(bad.generation)[n].params for n in names}
        for tick in range(rounds):
            host.warm(10.0)
            views = _views(names, tick, 100, params)
            began = time.perf_counter()
            caller.call_all(bad.generation, views)
            over.append(time.perf_counter() - began - budget_s)
            good = {n: v for n, v in views.items() if n != "spin"}
            began = time.perf_counter()
            while any(o.overrun for o in caller.call_all(base.generation, good)):
                pass
            first_good.append(time.perf_counter() - began)
        return {
            "rounds": rounds,
            "budget_ms": budget_s * 1000,
            "beyond_budget": _summary(over),
            "max_beyond_budget_ms": round(max(over) * 1000, 3),
            "next_good_call": _summary(first_good),
            "restarts": host.restarts,
        }
    finally:
        caller.close()


def _in_process(strategies: Mapping[str, Any], views: Mapping[str, View]) -> int:
    count = 0
    for name, view in views.items():
        intents, _ = check_decisions(view, strategies[name].decide(view))
        count += len(intents)
    return count


def _hosted(caller: HostCaller, generation: str, views: Mapping[str, View]) -> int:
    outcomes = caller.call_all(generation, views)
    failed = [o for o in outcomes if o.failed]
    if failed:
        raise RuntimeError(f"strategy failed in the host: {failed[0].error}")
    return sum(len(o.intents) for o in outcomes)


if __name__ == "__main__":  # python -m runner.host.bench [strategies]
    import json
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "strategies")
    figures = {
        "tick": bench_host(folder),
        "reload": bench_reload(folder),
        "hang": bench_hang(folder),
    }
    print(json.dumps(figures, indent=2))
