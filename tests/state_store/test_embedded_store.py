"""The store on the embedded Redis: readable with redis-cli, durable across SIGKILL (AOF)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from state_store.connection import connect
from state_store.embedded import ensure_embedded_redis, stop_embedded_redis
from state_store.models import Fill, Intent
from state_store.redis_binary import find_redis_server
from state_store.settings import Settings
from state_store.store import Store
from tests.state_store.conftest import make_window
from tests.state_store.test_embedded import kill_server


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    home = tmp_path / "h"
    yield Settings(home=home, redis_url=None, bot="default", strategies=home)
    stop_embedded_redis(home)


def trade(store: Store, market: str, n: int) -> None:
    window = make_window(market)
    store.open_window(window)
    lease = store.claim_lease(market, "r1", 60_000)
    assert lease is not None
    for i in range(n):
        intent = Intent(f"k{i}", market, "Up", "BUY", Decimal("0.45"), Decimal("10"))
        coid, _ = store.create_order("s", intent, window, lease)
        store.apply_fill(
            Fill(f"{market}-f{i}", coid, market, "Up", "BUY", Decimal("0.45"), Decimal("10"))
        )


def test_redis_cli_reads_a_position_the_store_wrote(settings: Settings) -> None:
    client = connect(settings)
    trade(Store(client, "default"), "btc-updown-5m-1764000000", 2)
    client.close()
    sock = ensure_embedded_redis(settings.home)
    beside = Path(find_redis_server()).with_name("redis-cli")
    cli = str(beside) if beside.exists() else shutil.which("redis-cli")
    if cli is None:
        pytest.skip("no redis-cli next to redis-server or on PATH")
    key = "nb:{default}:pos:btc-updown-5m-1764000000"
    out = subprocess.run([cli, "-s", str(sock), "HGETALL", key], capture_output=True, text=True)
    fields = out.stdout.split()
    pairs = dict(zip(fields[::2], fields[1::2], strict=True))
    assert pairs["up_shares"] == "20" and pairs["cash"] == "-9" and pairs["fill_count"] == "2"


def test_transitions_that_returned_survive_sigkill_of_redis(settings: Settings) -> None:
    client = connect(settings)
    store = Store(client, "default")
    markets = [f"eth-updown-5m-{1764000000 + 300 * i}" for i in range(20)]
    for market in markets:
        trade(store, market, 5)
        store.settle_window(market, "Up")
    before = {m: store.position(m) for m in markets}
    client.close()
    kill_server(settings.home)
    client = connect(settings)
    store = Store(client, "default")
    assert {m: store.position(m) for m in markets} == before
    assert all(p.settled and p.realized_pnl == Decimal("27.5") for p in before.values())
    client.close()
