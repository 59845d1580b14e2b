"""Market leases across replicas: fair share, shedding for a newcomer, the lease log, fencing."""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis

from control.bench.replicas import lease_grants
from runner import leases
from state_store.models import Intent, Window
from state_store.store import FencedOut, Store

MARKETS = [f"m{i}" for i in range(8)]
TTL = 30_000


@pytest.fixture
def store(real_redis: redis.Redis) -> Store:
    return Store(real_redis, "default")


def holders(store: Store) -> dict[str, str | None]:
    values = store.client.mget([store.keys.lease(m) for m in MARKETS])
    pairs = zip(MARKETS, values, strict=True)
    return {m: (str(v).rpartition("|")[0] if v else None) for m, v in pairs}


def test_fair_share_is_the_ceiling_of_markets_per_live_replica() -> None:
    assert [leases.fair_share(8, r) for r in (1, 2, 3, 4, 8, 9)] == [8, 4, 3, 2, 1, 1]
    assert leases.fair_share(0, 3) == 0 and leases.fair_share(5, 0) == 5


def test_replicas_split_the_markets_and_a_newcomer_gets_its_share(store: Store) -> None:
    a = leases.refresh(store, "a", MARKETS, {}, TTL, replicas=1)
    assert sorted(a) == MARKETS  # alone: everything
    b = leases.refresh(store, "b", MARKETS, {}, TTL, replicas=2)
    assert b == {}  # nothing free yet: a holds all 8
    a = leases.refresh(store, "a", MARKETS, a, TTL, replicas=2)
    assert len(a) == 4  # a sheds what is above its share...
    b = leases.refresh(store, "b", MARKETS, b, TTL, replicas=2)
    assert len(b) == 4 and not set(a) & set(b)  # ...and the newcomer takes it
    c = leases.refresh(store, "c", MARKETS, {}, TTL, replicas=3)
    a = leases.refresh(store, "a", MARKETS, a, TTL, replicas=3)
    b = leases.refresh(store, "b", MARKETS, b, TTL, replicas=3)
    c = leases.refresh(store, "c", MARKETS, c, TTL, replicas=3)
    assert sorted(len(x) for x in (a, b, c)) == [2, 3, 3]
    assert all(holders(store).values())


def test_claims_find_free_markets_wherever_they_are(store: Store) -> None:
    taken = {m: store.claim_lease(m, "other", TTL) for m in MARKETS[:6]}
    assert all(taken.values())
    mine = leases.refresh(store, "me", MARKETS, {}, TTL, replicas=2)
    assert sorted(mine) == MARKETS[6:]


def test_ended_markets_are_released_and_lost_leases_dropped(store: Store) -> None:
    held = leases.refresh(store, "a", MARKETS[:4], {}, TTL, replicas=1)
    store.client.delete(store.keys.lease("m0"))  # expired
    assert store.claim_lease("m0", "b", TTL) is not None  # and taken by b
    now = leases.refresh(store, "a", MARKETS[:3], held, TTL, replicas=2)
    assert sorted(now) == ["m1", "m2"]  # m0 lost to b, m3 ended (released)
    assert holders(store)["m3"] is None and holders(store)["m0"] == "b"


def test_every_fresh_grant_is_logged_once_with_server_time(store: Store) -> None:
    held = leases.refresh(store, "a", MARKETS[:2], {}, TTL, replicas=1)
    leases.refresh(store, "a", MARKETS[:2], held, TTL, replicas=1)  # renewals: no entries
    grants = lease_grants(store.client, store.keys)
    assert [(g["market"], g["replica"], g["token"]) for g in grants] == [
        (m, "a", held[m].token) for m in sorted(held, key=lambda m: held[m].token)
    ]
    assert all(g["ts"] > 1_000_000_000 for g in grants)


def test_a_restarted_replica_adopts_its_own_leases(store: Store) -> None:
    first = leases.refresh(store, "a", MARKETS[:2], {}, TTL, replicas=1)
    again = leases.refresh(store, "a", MARKETS[:2], {}, TTL, replicas=1)  # a new process, same id
    assert again == first
    assert len(lease_grants(store.client, store.keys)) == 2


def test_a_frozen_replica_cannot_create_under_its_stale_lease(store: Store) -> None:
    window = Window("m0", "btc", "5m", 100.0, 400.0, "0xc", "up", "down")
    store.open_window(window)
    stale = leases.refresh(store, "a", ["m0"], {}, 1, replicas=1)["m0"]  # expires at once
    store.client.delete(store.keys.lease("m0"))
    fresh = leases.refresh(store, "b", ["m0"], {}, TTL, replicas=2)["m0"]
    assert fresh.token > stale.token
    intent = Intent("k", "m0", "Up", "BUY", Decimal("0.5"), Decimal("5"))
    with pytest.raises(FencedOut):
        store.create_order("s", intent, window, stale)
    assert leases.refresh(store, "a", ["m0"], {"m0": stale}, TTL, replicas=2) == {}
    _, created = store.create_order("s", intent, window, fresh)
    assert created.outcome == "created"


def test_a_market_grabbed_between_read_and_claim_is_replaced_at_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = leases._grant
    calls: list[list[str]] = []

    def racing(store: Store, replica: str, markets: list[str], ttl_ms: int) -> object:
        if not calls:  # another replica wins the first market this replica read as free
            assert store.claim_lease(markets[0], "other", TTL) is not None
        calls.append(list(markets))
        return real(store, replica, markets, ttl_ms)

    monkeypatch.setattr(leases, "_grant", racing)
    mine = leases.claim_free(store, "me", MARKETS, {}, 3, TTL)
    assert len(mine) == 3 and calls[0][0] not in mine
    assert len(calls) == 2 and len(calls[1]) == 1
