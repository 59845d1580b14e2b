"""Many bots on a real 3-master Redis Cluster; their rq jobs on a separate plain Redis.

Each bot has its own runner (built by `build_runtime` from a `redis+cluster://`
URL, as `neverblink run --redis-url redis+cluster://...` does) trading on its
own paper venue (its own account, so its venue ledger is its own). All venues
share one manual clock: the test moves it through several windows. The
settlement and reconciliation jobs go to the jobs Redis
(`Settings.jobs_redis_url`) and are run by one rq worker serving every bot's
queue; a registered worker keeps the runners from settling inline, so every
settlement is a job's.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
import redis
from click.testing import CliRunner
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException
from rq import Queue, SimpleWorker, Worker
from rq.job import Job, JobStatus

from control.cli import main
from exchange.factory import VenueSpec
from exchange.paper import BackgroundServer, ManualClock, PaperConfig, create_app
from exchange.venue import Venue
from runner import jobs
from runner.build import build_runtime, close_runtime
from runner.memory import VERSION_FIELD, current_memory
from runner.orders import poll_fills
from runner.runtime import RunnerConfig, Runtime
from runner.settlement import settle_market
from runner.tick import run_tick
from state_store import transitions as t
from state_store.connection import connect, redis_available
from state_store.keys import Keys
from state_store.models import Outcome, WindowStatus
from state_store.private_redis import RedisProcess, free_port
from state_store.private_topology import ClusterGroup
from state_store.settings import ENV_JOBS_REDIS_URL, Settings
from state_store.store import Store
from tests.runner.strategy_sources import always_buy

pytestmark = pytest.mark.chaos

BOTS = [f"bot{i:02d}" for i in range(21)]
WINDOW_S = 30  # 5m windows last 30 venue seconds, 15m ones 90
STEP_S = 10  # venue seconds the clock moves between two rounds of ticks
ROUNDS = 11  # 110 venue seconds: three 5m windows and one 15m window end
RECONCILE_EVERY_S = 3600  # one reconciliation run per bot (the current slot)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterGroup]:
    group = ClusterGroup(tmp_path_factory.mktemp("cluster"), masters=3)
    try:
        yield group.start()
    finally:
        group.stop()


@pytest.fixture
def jobs_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "jobs-redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def strategies(tmp_path: Path) -> Path:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "always.py").write_text(always_buy("v1"))
    return folder


class Bot:
    """One bot: its paper venue (own name, own port), its settings and its runner."""

    def __init__(self, name: str, settings: Settings, venue_url: str, rt: Runtime) -> None:
        self.name = name
        self.settings = settings
        self.spec = VenueSpec("paper", venue_url)
        self.rt = rt
        self.reconcile_slot = 0  # the reconciliation job seeded for now

    @property
    def venue(self) -> Venue:
        return self.rt.venue


def start_bots(
    stack: ExitStack, venue_redis: redis.Redis, clock: ManualClock, settings_of: dict[str, Settings]
) -> list[Bot]:
    bots = []
    for i, (name, settings) in enumerate(settings_of.items()):
        config = PaperConfig(
            redis=venue_redis, name=f"pv-{name}", seed=i, window_seconds=WINDOW_S,
            real_time=clock, assets=("btc",),
        )  # fmt: skip
        server = BackgroundServer(create_app(config), port=free_port()).start()
        stack.callback(server.stop)
        rt = build_runtime(
            settings, RunnerConfig(replica="r1", tick_s=0.1, decide_budget_s=1.0),
            venue_spec=VenueSpec("paper", server.url),
        )  # fmt: skip
        stack.callback(close_runtime, rt)
        bots.append(Bot(name, settings, server.url, rt))
    return bots


def bot_settings(bot: str, tmp: Path, url: str, jobs_url: str, strategies: Path) -> Settings:
    """What `--redis-url <cluster> --jobs-redis-url <plain> --bot <bot>` resolves to."""
    return Settings.resolve(
        home=str(tmp / bot), redis_url=url, bot=bot, strategies=str(strategies),
        jobs_redis_url=jobs_url,
    )  # fmt: skip


def masters_of(client: redis.Redis, bots: list[str]) -> Counter[str]:
    cluster = client
    assert isinstance(cluster, RedisCluster)
    return Counter(cluster.get_node_from_key(Keys(b).prefix).name for b in bots)


def venue_ledger(venue: Venue) -> dict[str, Decimal]:
    """Shares filled per venue order id, from the venue's own trades."""
    fills, _ = venue.fills_since(None)
    out: dict[str, Decimal] = {}
    for f in fills:
        out[f.order_id] = out.get(f.order_id, Decimal(0)) + f.size
    return out


def test_one_client_serves_every_bot_scripts_and_multi_in_its_slot(
    cluster: ClusterGroup, tmp_path: Path
) -> None:
    settings = Settings(tmp_path, cluster.url, "solo", tmp_path / "strategies")
    client = connect(settings)
    try:
        assert redis_available(client)
        keys = Keys("solo")
        migrated, writable = current_memory(
            client, keys, "s", {VERSION_FIELD: "1", "n": "2"}, 2, lambda v, _: {"n2": v["n"]}
        )  # a MULTI of the bot's slot
        assert writable and migrated == {"n2": "2"}
        assert client.hgetall(keys.memory("s")) == {"n2": "2", VERSION_FIELD: "2"}
        store = Store(client, "solo")
        client.script_flush()  # every node: the batch meets NOSCRIPT and runs those alone
        calls = [t.close_window(keys, m) for m in ("m1", "m2")]
        assert [r.outcome for r in store.execute(calls)] == ["no_window", "no_window"]
        assert [r.outcome for r in store.execute(calls)] == ["no_window", "no_window"]
        pipe = client.pipeline(transaction=True)
        pipe.set(Keys("solo").control, "x")
        pipe.set(Keys("bot01").control, "x")  # another bot's slot: refused, not half-done
        with pytest.raises(RedisClusterException):
            pipe.execute()
        assert not client.exists(Keys("bot01").control)
    finally:
        client.close()
    with pytest.raises(redis.ConnectionError, match="cluster"):  # no seed answers
        connect(replace(settings, redis_url="redis+cluster://127.0.0.1:1"))


def test_many_bots_trade_on_a_cluster_and_every_window_settles_once(
    cluster: ClusterGroup,
    jobs_redis: RedisProcess,
    real_redis: redis.Redis,
    strategies: Path,
    tmp_path: Path,
) -> None:
    settings_of = {
        bot: bot_settings(bot, tmp_path, cluster.url, jobs_redis.url, strategies) for bot in BOTS
    }
    probe = connect(settings_of[BOTS[0]])
    jobs_conn = jobs.rq_connection(settings_of[BOTS[0]])
    clock = ManualClock(1_800_000_000.0)
    with ExitStack() as stack:
        stack.callback(probe.close)
        stack.callback(jobs_conn.close)
        spread = masters_of(probe, BOTS)
        assert len(spread) == 3 and min(spread.values()) >= 3, spread  # every master has bots
        queues = [jobs.queue_for(jobs_conn, b) for b in BOTS]
        listening = Worker(queues, connection=jobs_conn, name="listening")
        listening.register_birth()  # type: ignore[no-untyped-call]  # runners see a worker: they enqueue, never settle inline
        stack.callback(listening.register_death)
        bots = start_bots(stack, real_redis, clock, settings_of)
        for bot in bots:
            target = jobs.JobTarget.of(bot.settings, bot.spec)
            bot.reconcile_slot = jobs.seed_reconcile(jobs_conn, target, RECONCILE_EVERY_S)[0]

        for _ in range(ROUNDS):
            for bot in bots:
                run_tick(bot.rt)
            clock.advance(STEP_S)
        for bot in bots:  # the windows that just ended: closed, their jobs enqueued
            run_tick(bot.rt)
            poll_fills(bot.rt.store, bot.venue)

        assert not list(probe.scan_iter(match="rq:*")), "rq wrote to the Cluster"
        scheduled = {b.name: b.rt.store.unsettled_markets() for b in bots}
        assert all(len(markets) >= 3 for markets in scheduled.values()), scheduled
        run_jobs(jobs_conn, queues)

        for bot in bots:
            check_bot(bot, jobs_conn, scheduled[bot.name])


def run_jobs(conn: redis.Redis, queues: list[Queue]) -> None:
    """Let the settlement jobs' grace pass, then run every due job once (burst)."""
    time.sleep(jobs.SETTLE_GRACE_S + 0.2)  # the runners scheduled them this far ahead
    worker = SimpleWorker(queues, connection=conn, name="cluster-test-worker")
    worker.work(burst=True, with_scheduler=True)


def check_bot(bot: Bot, conn: redis.Redis, closed: list[str]) -> None:
    store = bot.rt.store
    for market in closed:
        job = Job.fetch(jobs.settle_job_id(bot.name, market), connection=conn)
        assert job.get_status() == JobStatus.FINISHED, (bot.name, market, job.get_status())
        assert job.return_value() == "settled"  # the job settled it: not inline, not before
        window = store.window(market)
        assert window is not None and window.status == WindowStatus.SETTLED
        assert settle_market(store, bot.venue, market) == "already"  # and only once
        position = store.position(market)
        winning = position.shares(cast(Outcome, window.winner)) if window.winner else Decimal(0)
        assert position.settled and position.payout == winning  # paid once, not twice
    assert store.unsettled_markets() == []
    ledger = venue_ledger(bot.venue)
    orders = [o for m in store.markets() for o in store.market_orders(m)]
    assert orders, f"{bot.name} placed nothing"
    assert {o.venue_order_id for o in orders if o.filled} == set(ledger)
    for order in orders:
        assert order.filled == ledger.get(order.venue_order_id, Decimal(0))
    for market in store.markets():
        filled = sum((o.filled for o in store.market_orders(market)), Decimal(0))
        assert store.position(market).up_shares == filled
    reconcile = Job.fetch(jobs.reconcile_job_id(bot.name, bot.reconcile_slot), connection=conn)
    assert reconcile.get_status() == JobStatus.FINISHED


def test_the_worker_command_runs_a_cluster_bots_jobs_on_the_jobs_redis(
    cluster: ClusterGroup, jobs_redis: RedisProcess, real_redis: redis.Redis, tmp_path: Path
) -> None:
    venue = BackgroundServer(create_app(PaperConfig(redis=real_redis)), port=free_port()).start()
    common = ["--home", str(tmp_path), "--redis-url", cluster.url, "--bot", "wbot"]
    worker = ["--venue-url", venue.url, "--burst", "--reconcile-every", "3600"]
    try:
        refused = CliRunner().invoke(
            main, ["worker", *common, *worker], env={ENV_JOBS_REDIS_URL: ""}
        )
        assert refused.exit_code == 1 and "--jobs-redis-url" in refused.output
        ran = CliRunner().invoke(
            main, ["worker", *common, "--jobs-redis-url", jobs_redis.url, *worker]
        )
        assert ran.exit_code == 0, ran.output
    finally:
        venue.stop()
    conn = redis.Redis.from_url(jobs_redis.url)
    try:
        slot = int(time.time() // 3600)
        done = Job.fetch(jobs.reconcile_job_id("wbot", slot), connection=conn)
        assert done.get_status() == JobStatus.FINISHED  # seeded, run, on the jobs Redis
    finally:
        conn.close()
