"""What WAIT costs the order-creating round trip: `neverblink bench wait`.

Method (BENCHMARKS.md, "Sentinel: WAIT before posting"): a private Sentinel group on
loopback (a master, `--replicas` replicas, three sentinels); a Store on the
redis+sentinel:// URL, as a runner has. One window is opened and its lease taken; each
sample is one tick's batch of `--orders` create_order transitions (fresh client order
ids) sent in one pipeline, timed from send to the last reply: with the runner's WAIT
(`Store.execute_replicated`, WAIT 1 250) and without it (`Store.execute`), the two
alternating so both see the same machine. Reported: p50/p99/max of each, in ms, the
paired p50 of (with - without), and how many WAITs timed out (the runner would have
rejected those orders).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from control.bench.stats import summary_ms
from state_store import transitions as t
from state_store.connection import connect
from state_store.models import Intent, Window
from state_store.private_topology import SentinelGroup
from state_store.settings import Settings
from state_store.store import Store

MARKET = "btc-updown-5m-bench"
TIMEOUT_MS = 250


def run_wait_bench(batches: int, orders: int, replicas: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nb-wait-") as root:
        group = SentinelGroup(Path(root) / "sentinel", replicas=replicas).start()
        try:
            settings = Settings.resolve(home=str(Path(root) / "home"), redis_url=group.url)
            client = connect(settings)
            try:
                return measure(Store(client, "default"), batches, orders, replicas)
            finally:
                client.close()
        finally:
            group.stop()


def measure(store: Store, batches: int, orders: int, replicas: int) -> dict[str, Any]:
    now = time.time()
    window = Window(MARKET, "btc", "5m", now - 1, now + 86400, "0xc", "up", "down")
    store.open_window(window)
    lease = store.claim_lease(MARKET, "bench", 3_600_000)
    assert lease is not None
    plain: list[float] = []
    waited: list[float] = []
    timeouts = 0
    for n in range(batches):
        calls = [one_create(store, window, lease, f"{n}-{i}") for i in range(orders)]
        began = time.perf_counter()
        if n % 2:
            results, acked = store.execute_replicated(calls, replicas, TIMEOUT_MS)
            waited.append(time.perf_counter() - began)
            timeouts += acked < replicas  # not acknowledged within TIMEOUT_MS
        else:
            results = store.execute(calls)
            plain.append(time.perf_counter() - began)
        assert all(r.outcome == "created" for r in results), results
    pairs = [w - p for p, w in zip(plain, waited, strict=False)]
    return {
        "method": "one tick's create_order batch, one pipeline, with and without WAIT",
        "replicas": replicas,
        "orders_per_batch": orders,
        "wait_timeout_ms": TIMEOUT_MS,
        "without_wait": summary_ms(plain),
        "with_wait": summary_ms(waited),
        "added_p50_ms": round(statistics.median(pairs) * 1000, 3),
        "wait_timeouts": timeouts,
    }


def one_create(store: Store, window: Window, lease: t.Lease, name: str) -> t.Call:
    intent = Intent(f"k{name}", MARKET, "Up", "BUY", Decimal("0.5"), Decimal(5))
    return t.create_order(store.keys, f"b{name}", "bench", intent, window, lease, f"v{name}")
