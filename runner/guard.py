"""The data-loss guard: notice that the bot's Redis went backwards, rebuild from the venue.

Redis carries an epoch (`nb:{B}:epoch`, a random id written once into an empty
Redis) and, per replica, a sequence (`nb:{B}:seq`) that the replica bumps after
each tick's writes and remembers. An AOF and a replication stream both keep a
prefix of the writes: when the bump survived, every write of the tick before it
did. At the start of each tick the runner reads both. A missing or different
epoch, or a sequence below the remembered one, means Redis lost acknowledged
writes (restarted from an empty or truncated AOF, a lagging replica promoted).

Then the runner holds new orders, sets `nb:{B}:repairing` (the other replicas
hold theirs while it exists), rebuilds from the venue what open windows need
(every fill of the account Redis lacks, adopting the order it belongs to, and
every resting order Redis does not know: runner.adopt), audits each repair and
the rebuild itself, and resumes. A first start on an empty Redis rebuilds too
(Redis may have been lost while no runner was up); it is quiet when the venue
has nothing.

Fencing tokens come from one counter (`nb:{B}:fence`), which goes back with the
rest: a token granted on the lost side could be granted again. So a rebuild
after a loss first moves the counter on by `FENCE_JUMP` (far more grants than
could happen in the lost seconds): every lease granted from then on carries a
token above any granted before, and a replica still holding a lost grant is
fenced out by `create_order` (its `<replica>|<token>` is not the lease's).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from runner.adopt import Adopter, adopt_open_orders, restore_fills
from runner.repairs import RepairLog
from runner.runtime import Runtime
from state_store.status import DataGuardStatus

log = logging.getLogger(__name__)

REPAIR_MARK_MS = 60_000  # a rebuild that died is forgotten after this
FENCE_JUMP = 1 << 20  # fencing tokens move on by this after Redis lost writes


def check(rt: Runtime) -> None:
    """Step 0 of a tick: compare Redis with what this runner remembers; rebuild if it went back."""
    g, k = rt.guard, rt.store.keys
    pipe = rt.client.pipeline(transaction=False)
    pipe.hget(k.epoch, "epoch")
    pipe.hget(k.seq, rt.config.replica)
    pipe.get(k.repairing)
    epoch, raw_seq, repairing = pipe.execute()
    seq = int(raw_seq) if raw_seq is not None else 0
    reason = went_back(g.epoch, g.seq, epoch, seq) or g.went_back
    if reason or epoch is None:  # a rebuild that fails is tried again next tick
        rebuild(rt, reason, found_seq=seq)
        g.went_back = ""
        seq = max(seq, g.seq)
        rt.client.hset(k.seq, rt.config.replica, str(seq))  # the sequence never goes back
    if epoch is None:
        rt.client.hsetnx(k.epoch, "epoch", uuid.uuid4().hex)
        rt.client.hsetnx(k.epoch, "created_at", f"{time.time():.3f}")
        epoch = rt.client.hget(k.epoch, "epoch")
    g.epoch, g.seq = str(epoch), max(seq, 0)
    g.holding = ""
    if repairing and not str(repairing).startswith(f"{rt.config.replica}|"):
        g.holding = f"rebuild from the venue in progress ({repairing})"


def went_back(epoch_seen: str, seq_seen: int, epoch: str | None, seq: int) -> str:
    """Why Redis is behind what this runner saw; '' when it is not (or nothing was seen)."""
    if seq_seen < 0 or not epoch_seen:  # nothing seen yet (a first rebuild still pending)
        return ""
    if epoch is None:
        return f"redis has no epoch (it was {epoch_seen[:12]}): it lost its data"
    if epoch != epoch_seen:
        return f"redis epoch changed from {epoch_seen[:12]} to {epoch[:12]}: not the same data"
    if seq < seq_seen:
        return f"redis sequence went back from {seq_seen} to {seq}: it lost recent writes"
    return ""


def bump(rt: Runtime) -> None:
    """After the tick's writes: move this replica's sequence on and remember it.

    A bump that does not pass the remembered value means Redis went back during this
    tick (its own check passed): the next check rebuilds.
    """
    g = rt.guard
    value = int(rt.client.hincrby(rt.store.keys.seq, rt.config.replica, 1))
    if g.seq >= 0 and value <= g.seq:
        g.went_back = f"redis sequence went back to {value - 1} from {g.seq} during a tick"
        return
    g.seq = value


def rebuild(rt: Runtime, reason: str, found_seq: int = 0) -> dict[str, Any]:
    """Hold orders, rebuild fills, orders and positions from the venue, audit, resume."""
    g, k, replica = rt.guard, rt.store.keys, rt.config.replica
    g.holding = f"rebuilding from the venue: {reason or 'first start on an empty redis'}"
    if rt.discovery is not None:  # the window records it knew may be gone: find them again
        rt.discovery.reset()
    rt.client.set(k.repairing, f"{replica}|{reason or 'first start'}", px=REPAIR_MARK_MS)
    began = time.monotonic()
    repairs = RepairLog(rt.store, rt.settings, who=f"guard:{replica}")
    if reason:
        log.error("%s: stopping new orders and rebuilding from the venue", reason)
        change = f"went_back:{replica}:{g.epoch}:{g.seq}:{found_seq}"
        args = {"replica": replica, "reason": reason, "remembered_seq": g.seq}
        args["found_seq"] = found_seq
        args["fence_now"] = int(rt.client.incrby(k.fence, FENCE_JUMP))
        repairs.record("redis_went_back", change, args)
    adopter = Adopter(rt.store, rt.venue, repairs)
    try:  # resting orders first: one that matches meanwhile is then among the fills
        resting = rt.venue.open_orders()
        fills, _ = rt.venue.fills_since(None)
        restored = restore_fills(rt.store, fills, adopter)
        adopted_open = adopt_open_orders(rt.store, resting, adopter)
    finally:
        rt.client.delete(k.repairing)
    summary = {
        "ts": round(time.time(), 3), "reason": reason or "first start on an empty redis",
        "fills_seen": len(fills), "fills_restored": restored, "orders_adopted": adopter.adopted,
        "open_orders_adopted": adopted_open, "unplaced": adopter.unplaced,
        "seconds": round(time.monotonic() - began, 3),
    }  # fmt: skip
    g.orders_adopted += adopter.adopted
    if reason or restored or adopter.adopted:
        g.repairs += 1
        g.last_repair = summary
        repairs.record("redis_rebuilt", f"rebuilt:{replica}:{uuid.uuid4().hex}", summary)
        log.warning("rebuilt from the venue: %s", summary)
    return summary


def status_record(rt: Runtime) -> DataGuardStatus:
    """The guard's part of the runner status section."""
    g = rt.guard
    return DataGuardStatus(
        state=g.holding or "ok",
        redis_epoch=g.epoch[:12],
        redis_seq=g.seq,
        repairs=g.repairs,
        last_repair=dict(g.last_repair),
        orders_adopted=g.orders_adopted,
        orders_ended_at_venue=g.orders_ended,
    )
