"""Window discovery in the tick (runner.discovery), against real Redis and the paper venue on a
loopback port whose clock the test moves: windows found on its Gamma routes before they open,
no market listing, an unlisted window reported once, replicas asking once per window."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from eth_account import Account
from fastapi import FastAPI

from control.reports import RunnerRow
from control.status_render import _problem
from exchange.factory import VenueSpec, open_venue
from exchange.live.keys import KEY_ENV
from exchange.paper import BackgroundServer, ManualClock, PaperConfig, create_app
from exchange.paper.stats import RequestCounts
from exchange.paper.stream_faults import StreamFaults
from exchange.venue import Venue
from runner.build import build_runtime, close_runtime
from runner.discovery import DiscoveryConfig, WindowFinder
from runner.runtime import RunnerConfig, Runtime
from runner.tick import run_tick, status_section
from runner.view_builder import market_view
from state_store.models import Window
from state_store.settings import Settings
from state_store.store import Store
from tests.redis_process import free_port
from tests.runner.processes import Proc, runner_args, start_venue, wait_for
from tests.runner.stream_rig import write_strategy
from tests.runner.test_chaos_kill import EVERY_SECOND

WINDOW = 30  # the paper venue's 5m windows last 30 venue seconds, its 15m ones 90
START = 1_800_000_000.0  # a multiple of both
GAMMA = "GET /markets/slug/{slug}"
LISTING = "GET /markets"


@dataclass
class Rig:
    app: FastAPI
    clock: ManualClock
    url: str
    venue: Venue
    kind: str
    made: list[Runtime]
    settings: Settings
    redis: redis.Redis

    @property
    def counts(self) -> RequestCounts:
        counts: RequestCounts = self.app.state.request_counts
        return counts

    @property
    def faults(self) -> StreamFaults:
        faults: StreamFaults = self.app.state.stream_faults
        return faults

    def runner(self, replica: str = "r1", **options: Any) -> Runtime:
        if self.kind == "live":  # the live venue has no /paper/info: the series are given
            options.setdefault("series", (("btc", "5m"), ("eth", "5m"), ("btc", "15m")))
            options.setdefault("lengths", {"5m": WINDOW, "15m": 3 * WINDOW})
        config = DiscoveryConfig(self.url, **options)
        cfg = RunnerConfig(replica=replica, tick_s=0.1, decide_budget_s=1.0)
        rt = build_runtime(
            self.settings, cfg, venue=self.venue, client=self.redis, discovery=config
        )
        self.made.append(rt)
        return rt

    def as_the_venue_has_it(self, slug: str) -> tuple[str, str, str]:
        """(condition id, Up token, Down token) of a window, from the paper venue itself."""
        engine = self.app.state.engine
        paper = engine.schedule.describe(slug, engine.clock.now())
        return paper.condition_id, paper.up_token, paper.down_token

    def slug(self, asset: str, interval: str, k: int) -> str:
        length = WINDOW if interval == "5m" else 3 * WINDOW
        return f"{asset}-updown-{interval}-{int(START) + k * length}"


@pytest.fixture(params=["paper", "live"])
def rig(
    request: pytest.FixtureRequest, tmp_path: Path, real_redis: redis.Redis, redis_url: str,
    strategies_dir: Path,
) -> Iterator[Rig]:  # fmt: skip
    clock = ManualClock(START)
    config = PaperConfig(
        redis=real_redis, seed=7, window_seconds=WINDOW, real_time=clock, assets=("btc", "eth")
    )
    app = create_app(config)
    server = BackgroundServer(app, port=free_port()).start()
    env = {KEY_ENV: Account.create().key.hex()} if request.param == "live" else None
    venue, close = open_venue(VenueSpec(request.param, server.url), 5.0, env=env)
    settings = Settings.resolve(
        home=str(tmp_path / "home"), redis_url=redis_url, strategies=str(strategies_dir)
    )
    made: list[Runtime] = []
    rig = Rig(app, clock, server.url, venue, request.param, made, settings, real_redis)
    try:
        yield rig
    finally:
        for rt in made:
            close_runtime(rt)
        close()
        server.stop()


def tick_through(rig: Rig, runners: list[Runtime], seconds: int, step: int = 5,
                 each: Callable[[], None] | None = None) -> None:  # fmt: skip
    """Tick every runner, then move the venue clock `step` s, for `seconds` venue seconds."""
    for _ in range(seconds // step):
        for rt in runners:
            run_tick(rt)
        if each is not None:
            each()
        rig.clock.advance(step)


def discovered(store: Store) -> dict[str, Window]:
    return {w.market: w for w in store.windows() if w.terms_source == "gamma"}


def test_every_window_is_found_before_it_opens_without_listing(rig: Rig) -> None:
    rt = rig.runner()
    assert rt.discovery is not None
    finder = rt.discovery
    found_before_open: set[str] = set()

    def check_next_windows() -> None:
        now = rig.venue.server_time()
        for asset, interval in finder.series:
            length = finder.lengths[interval]
            nxt = f"{asset}-updown-{interval}-{(int(now) // length + 1) * length}"
            window = rt.store.window(nxt)
            assert window is not None and window.start_ts > now, nxt  # recorded before it opens
            found_before_open.add(nxt)

    at_openings = 0  # Gamma requests made by ticks at which a window opens
    for _ in range(4 * WINDOW // 5):
        before = rig.counts.get(GAMMA)
        run_tick(rt)
        now = rig.venue.server_time()
        if now > START and now % WINDOW == 0:
            at_openings += rig.counts.get(GAMMA) - before
        check_next_windows()
        rig.clock.advance(5)

    assert at_openings == 0  # asked half a window earlier
    assert len(finder.series) >= 3
    windows = discovered(rt.store)
    assert found_before_open <= set(windows)
    assert len(found_before_open) >= 4 * 2 + 1  # 4 windows of each 5m series, 15m ones
    for slug, window in windows.items():
        assert (window.condition_id, window.up_token, window.down_token) == (
            rig.as_the_venue_has_it(slug)
        )
        assert (window.tick_size, window.min_order_size) == (Decimal("0.01"), Decimal("5"))
        assert (window.fee_rate, window.fee_exponent, window.neg_risk) == (
            Decimal("0.07"), Decimal(1), False,
        )  # fmt: skip
        assert window.end_ts - window.start_ts == finder.lengths[window.interval]
    assert rig.counts.get(GAMMA) == len(windows)  # each window asked of Gamma once
    assert rig.counts.get(LISTING) == 0  # and the venue's markets never listed
    assert status_section(rt).window_source == "gamma"


def test_window_terms_reach_the_strategies_view(rig: Rig) -> None:
    rt = rig.runner()
    run_tick(rt)
    now = rig.venue.server_time()
    snaps = rt.store.snapshot(sorted(rt.leases))
    views = [v for s in snaps.values() if (v := market_view(s, {}, {}, now)) is not None]
    assert len(views) == len(rt.discovery.series if rt.discovery else ())
    for view in views:
        assert (view.fee_rate, view.fee_exponent, view.neg_risk) == (
            Decimal("0.07"), Decimal(1), False,
        )  # fmt: skip
        assert (view.tick_size, view.min_order_size) == (Decimal("0.01"), Decimal("5"))
        assert view.start_ts <= now < view.end_ts


def test_a_window_gamma_never_lists_is_reported_once_and_not_asked_every_tick(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    hidden = rig.slug("btc", "5m", 1)
    rig.faults.unlist(hidden)
    rt = rig.runner(retry_after_s=3600.0)
    caplog.set_level(logging.WARNING, logger="runner.discovery")
    run_tick(rt)
    assert rig.counts.get(GAMMA) == len(discovered(rt.store)) + 1  # the hidden one, once
    tick_through(rig, [rt], 2 * WINDOW)  # the hidden window opens and ends meanwhile
    assert rt.store.window(hidden) is None
    reported = [r for r in caplog.records if hidden in r.getMessage()]
    assert len(reported) == 1 and "not listed" in reported[0].getMessage()
    assert rig.counts.get(GAMMA) == len(discovered(rt.store)) + 1  # ... and never again
    assert len(discovered(rt.store)) > len(rt.discovery.series if rt.discovery else ()) * 2


def test_an_unlisted_window_shows_in_status_and_is_asked_again_after_a_while(rig: Rig) -> None:
    hidden = rig.slug("eth", "5m", 1)
    rig.faults.unlist(hidden)
    rt = rig.runner(retry_after_s=60.0)
    wall = [1000.0]
    assert rt.discovery is not None
    rt.discovery.clock = lambda: wall[0]
    run_tick(rt)
    assert status_section(rt).unlisted_windows == {hidden: "HTTP 404"}
    row = RunnerRow.of("r1", status_section(rt))
    assert f"window {hidden} not on Gamma: HTTP 404" in _problem(row)  # `ctl status`
    assert rt.client.hget(rt.store.keys.unlisted_windows, hidden)
    asked = rig.counts.get(GAMMA)
    for _ in range(5):
        run_tick(rt)
    assert rig.counts.get(GAMMA) == asked  # not every tick
    rig.faults.reset()
    wall[0] += 61
    run_tick(rt)
    assert rig.counts.get(GAMMA) == asked + 1
    row = RunnerRow.of("r1", status_section(rt))
    assert status_section(rt).unlisted_windows == row.unlisted_windows == {}
    assert rt.store.window(hidden) is not None
    assert not rt.client.hget(rt.store.keys.unlisted_windows, hidden)


def test_two_replicas_ask_gamma_once_per_window(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = rig.runner("r1"), rig.runner("r2")
    asked: list[str] = []  # start prices asked of the (paper) venue, by either replica
    if rig.kind == "paper":
        market_window = rig.venue.market_window  # type: ignore[attr-defined]
        monkeypatch.setattr(
            rig.venue,
            "market_window",
            lambda c: asked.append(c) or market_window(c),  # type: ignore[func-returns-value]
        )
    replicas = [first, second]

    def swap() -> None:
        replicas.reverse()  # the replicas take turns at being the first to see a new window

    tick_through(rig, replicas, 3 * WINDOW, step=10, each=swap)  # 3 rounds a window
    windows = discovered(first.store)
    assert rig.counts.get(GAMMA) == len(windows)
    assert first.discovery is not None and second.discovery is not None
    assert first.discovery.requests > 0 and second.discovery.requests > 0
    assert first.discovery.requests + second.discovery.requests == len(windows)
    assert set(first.discovery.known) == set(second.discovery.known)
    assert rig.counts.get(LISTING) == 0
    last_tick = rig.venue.server_time() - 10
    started = [w for w in first.store.windows() if w.start_ts <= last_tick]
    if rig.kind == "paper":  # Gamma has no start price: the paper venue's, asked once per bot
        assert sorted(asked) == sorted(w.condition_id for w in started)
        for window in started:
            expected = rig.app.state.engine.store.window(window.market).start_price
            assert (window.start_price, window.strike_source) == (expected, "venue")


def test_a_replica_that_sees_a_claim_waits_for_the_record(rig: Rig) -> None:
    rt = rig.runner("r2")
    nxt = rig.slug("btc", "5m", 1)
    rt.client.set(rt.store.keys.discovery_claim(nxt), "r1", px=60_000)  # r1 is asking
    run_tick(rt)
    assert rt.store.window(nxt) is None and rt.discovery is not None
    assert nxt not in rt.discovery.known
    asked = rig.counts.get(GAMMA)
    run_tick(rt)
    assert rig.counts.get(GAMMA) == asked  # still r1's to ask
    rt.client.delete(rt.store.keys.discovery_claim(nxt))  # r1 died: its claim expired
    run_tick(rt)
    window = rt.store.window(nxt)
    assert window is not None and window.terms_source == "gamma"
    assert nxt in rt.discovery.known


@pytest.mark.timeout(180)
def test_a_paper_runner_process_discovers_by_default_and_never_lists(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis, strategies_dir: Path
) -> None:
    venue, url = start_venue(tmp_path, redis_url, window_seconds=4)  # windows of 4 s and 12 s
    args = runner_args("r1", tmp_path / "home", redis_url, url, strategies_dir, 0.2)
    runner = Proc(args, tmp_path / "runner.log")
    store = Store(real_redis, "default")

    def status() -> dict[str, str]:
        fields: dict[str, str] = real_redis.hgetall(store.keys.runner("r1"))  # type: ignore[assignment]
        return fields

    try:
        runner.start()
        wait_for("ticks", lambda: int(status().get("tick") or 0) >= 3, 60)
        assert status()["window_source"] == "gamma"
        first = {w.market for w in discovered(store).values()}
        wait_for("two more 5m windows", lambda: len(discovered(store)) >= len(first) + 4, 60)
        requests = get_json(url + "/paper/stats")["requests"]
        assert requests.get(LISTING, 0) == 0, requests
        assert requests.get(GAMMA, 0) == len(discovered(store)), requests
        assert runner.terminate() == 0
    finally:
        runner.kill()
        venue.kill()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def test_windows_lost_with_redis_are_found_again(rig: Rig) -> None:
    rt = rig.runner()
    run_tick(rt)
    before = discovered(rt.store)
    assert before
    for key in rt.client.scan_iter(rt.store.keys.prefix + "*"):  # the bot's Redis is lost
        rt.client.delete(key)
    run_tick(rt)  # the data guard notices, rebuilds, and discovery finds its windows again
    assert rt.guard.repairs == 1
    after = discovered(rt.store)
    assert set(after) == set(before)
    assert all(w.up_token == before[m].up_token for m, w in after.items())


@pytest.mark.parametrize("rig", ["live"], indirect=True)
def test_the_live_venue_signs_with_the_windows_terms(rig: Rig, strategies_dir: Path) -> None:
    write_strategy(strategies_dir, EVERY_SECOND)  # one buy per market per venue second
    rt = rig.runner()
    rig.counts.reset()
    tick_through(rig, [rt], WINDOW + 10)  # into the next windows too
    assert rt.counters.orders_created > 2
    assert rig.counts.get("POST /order") + rig.counts.get("POST /orders") > 0
    assert rig.counts.get("GET /markets-by-token/{token_id}") == 0  # no per-token lookup:
    assert rig.counts.get("GET /clob-markets/{condition_id}") == 0  # the window's terms


def test_gamma_not_answering_is_asked_again_sooner(real_redis: redis.Redis) -> None:
    config = DiscoveryConfig(
        f"http://127.0.0.1:{free_port()}", (("btc", "5m"),), {"5m": WINDOW}, retry_after_s=60
    )  # nothing listens there
    wall = [1000.0]
    finder = WindowFinder(config, Store(real_redis, "default"), "r1", clock=lambda: wall[0])
    try:
        assert finder.windows(START) == []
        assert finder.requests == 2  # the current window and the next
        reasons = finder.unlisted_report()
        assert len(reasons) == 2 and all(r.startswith("request failed") for r in reasons.values())
        finder.windows(START + 1)
        assert finder.requests == 2  # not every tick
        wall[0] += config.error_retry_s
        finder.windows(START + 2)
        assert finder.requests == 4  # after error_retry_s, not retry_after_s
    finally:
        finder.close()
