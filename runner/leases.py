"""Market leases across replicas: renew ours, shed what is above our fair share, claim free ones.

Every tick a replica

1. renews the leases it holds on markets that are still live (a lease that
   expired or went to another replica is dropped: its token is stale, and
   `create_order` would refuse it anyway) and releases those of ended markets;
2. releases leases above its fair share, `ceil(live markets / live replicas)`,
   so a replica that just started gets work without waiting for anything to expire;
3. claims free markets (no lease key, or one left by an earlier process with
   the same replica id) up to its fair share.

Which markets a replica keeps and which it claims first follow a per-replica
ranking (rendezvous hashing of replica and market): replicas claiming at the
same instant mostly want different markets, and a market tends to go back to
the same replica. A fresh grant takes a new fencing token and is recorded in
the lease log (`claim_lease.lua`), with the server's time.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from state_store import transitions as t
from state_store.store import Lease, Store

CLAIM_ROUNDS = 2


def fair_share(markets: int, replicas: int) -> int:
    """How many markets one replica may hold: ceil(markets / replicas)."""
    return math.ceil(markets / max(replicas, 1)) if markets > 0 else 0


def rank(replica: str, market: str) -> int:
    """This replica's preference for a market (lower first); stable across processes."""
    digest = hashlib.blake2b(f"{replica}|{market}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def refresh(
    store: Store,
    replica: str,
    markets: Sequence[str],
    held: Mapping[str, Lease],
    ttl_ms: int,
    replicas: int,
) -> dict[str, Lease]:
    """The leases this replica holds after this tick's renewals, releases and claims."""
    share = fair_share(len(markets), replicas)
    leases = renew(store, markets, held, ttl_ms)
    leases = shed(store, replica, leases, share)
    if len(leases) < share:
        leases.update(claim_free(store, replica, markets, leases, share - len(leases), ttl_ms))
    return leases


def renew(
    store: Store, markets: Sequence[str], held: Mapping[str, Lease], ttl_ms: int
) -> dict[str, Lease]:
    """Renew held leases of live markets (one round trip); release those of ended markets."""
    live = set(markets)
    mine = [m for m in held if m in live]
    calls = [t.renew_lease(store.keys, held[m], ttl_ms) for m in mine]
    calls += [t.release_lease(store.keys, lease) for m, lease in held.items() if m not in live]
    renewed = store.execute(calls)[: len(mine)]
    return {m: held[m] for m, r in zip(mine, renewed, strict=True) if r.changed}


def shed(store: Store, replica: str, leases: dict[str, Lease], share: int) -> dict[str, Lease]:
    """Release the leases above `share`, keeping the markets this replica ranks first."""
    if len(leases) <= share:
        return leases
    ordered = sorted(leases, key=lambda m: rank(replica, m))
    keep, extra = ordered[:share], ordered[share:]
    store.execute([t.release_lease(store.keys, leases[m]) for m in extra])
    return {m: leases[m] for m in keep}


def claim_free(
    store: Store,
    replica: str,
    markets: Sequence[str],
    leases: Mapping[str, Lease],
    wanted: int,
    ttl_ms: int,
) -> dict[str, Lease]:
    """Claim up to `wanted` markets that nobody else holds (a read, then a pipelined write).

    A market another replica grabbed between the read and the write is replaced by
    the next free one in a second round, so a collision does not cost a whole tick.
    """
    granted: dict[str, Lease] = {}
    for _ in range(CLAIM_ROUNDS):
        others = [m for m in markets if m not in leases and m not in granted]
        if not others or len(granted) >= wanted:
            break
        values = store.client.mget([store.keys.lease(m) for m in others])
        pairs = zip(others, values, strict=True)
        free = [m for m, v in pairs if v is None or _holder(v) == replica]
        candidates = sorted(free, key=lambda m: rank(replica, m))[: wanted - len(granted)]
        if not candidates:
            break
        granted.update(_grant(store, replica, candidates, ttl_ms))
    return granted


def _grant(store: Store, replica: str, markets: Sequence[str], ttl_ms: int) -> dict[str, Lease]:
    results = store.execute([t.claim_lease(store.keys, m, replica, ttl_ms) for m in markets])
    return {
        market: Lease(market, replica, int(result.detail))
        for market, result in zip(markets, results, strict=True)
        if result.outcome in ("granted", "renewed")
    }


def _holder(value: Any) -> str:
    return _text(value).rpartition("|")[0]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
