"""`neverblink bench latency`: a book change at the venue -> our order arriving at the venue.

The system: a private redis-server, the paper venue in this process (uvicorn
on a thread, real loopback sockets), and one runner process (`neverblink run`)
with the market, user and price streams of the venue, ticking every
`tick_s` (1 s) — event-driven, then with `--timer-ticks`, one after the
other in one run, each with a bot (Redis state) of its own.

The venue's time is frozen (speed 1e-9), so the only book changes are the
benchmark's (the runner's `--book-stale-s` is a day: a book the venue does not
change is quiet, not stale): `POST /paper/books/mark` sets the best-bid size of a market's Up
token to a marker (MARK + n); the venue stamps the change (`changed_at`, its
wall clock after the change took effect) and pushes it on the market channel
at once. The benchmark strategy answers a marked book with a FAK buy whose
size encodes n; the venue's engine stamps each order as it arrives (after the
HTTP body was parsed and authenticated). Latency = arrival - change, both on
the venue's clock. Events run on `markets` markets at once (each market's
next change a random 0-`spread_s` after its order arrived, so changes fall
at every phase of the timer), until `events` per mode were measured.
"""

from __future__ import annotations

import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import redis

from control.bench.roomy_risk import ROOMY_RISK, set_risk_limits
from control.bench.stats import summary_ms
from exchange.client import ClobClient
from exchange.paper.app import create_app
from exchange.paper.bodies import PostOrderRequest
from exchange.paper.config import PaperConfig
from exchange.paper.engine import PaperEngine
from exchange.paper.server import BackgroundServer
from state_store.keys import Keys
from state_store.private_redis import RedisProcess, free_port
from state_store.settings import Settings
from state_store.status import read_runner

MARK = 100_000
FROZEN = 1e-9  # venue seconds per wall second: the books do not move on their own
EVENT_TIMEOUT_S = 10.0
MODES = ("event", "timer")  # event-driven ticks; the timer only (--timer-ticks)
#: a frozen venue sends nothing between marks: its books are quiet, not stale
FROZEN_BOOK_STALE_S = 86_400.0

STRATEGY = f'''"""The latency bench: a marked Up book gets a FAK buy whose size names the mark."""

from decimal import Decimal

from state_store.models import Intent

MARK = Decimal({MARK})
PARAMS = {{}}


def decide(view):
    out = []
    for m in view.markets:
        if m.up.bid_size < MARK:
            continue
        n = int(m.up.bid_size - MARK)
        out.append(
            Intent(
                key=f"mark-{{n}}", market=m.market, outcome="Up", side="BUY",
                price=m.tick_size, size=m.min_order_size + n % 1000, order_type="FAK",
            )
        )
    return out
'''


@dataclass
class Arrivals:
    """Orders as the venue's engine receives them: (wall time, token, shares)."""

    items: list[tuple[float, str, Decimal]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def note(self, body: PostOrderRequest) -> None:
        at = time.time()
        order = body.order
        amount = order.takerAmount if order.side == "BUY" else order.makerAmount
        with self.cond:
            self.items.append((at, order.tokenId, Decimal(amount) / 1_000_000))
            self.cond.notify_all()

    def take(self, timeout_s: float) -> list[tuple[float, str, Decimal]]:
        with self.cond:
            if not self.items:
                self.cond.wait(timeout_s)
            out, self.items = self.items, []
        return out


def instrument(engine: PaperEngine, arrivals: Arrivals) -> None:
    """Stamp every order the engine receives (single and batch posts)."""
    place, place_batch = engine.place, engine.place_batch

    def timed_place(body: PostOrderRequest, owner: str, address: str | None) -> Any:
        arrivals.note(body)
        return place(body, owner, address)

    def timed_batch(bodies: list[PostOrderRequest], owner: str, address: str | None) -> Any:
        for body in bodies:
            arrivals.note(body)
        return place_batch(bodies, owner, address)

    engine.place = timed_place  # type: ignore[method-assign]
    engine.place_batch = timed_batch  # type: ignore[method-assign]


@dataclass
class Venue:
    url: str
    redis_url: str
    engine: PaperEngine
    arrivals: Arrivals

    @property
    def ws(self) -> str:
        return "ws" + self.url.removeprefix("http")


@contextmanager
def venue_system(root: Path, assets: tuple[str, ...]) -> Iterator[Venue]:
    server = RedisProcess(root / "redis").start()
    client = redis.Redis(port=server.port, decode_responses=True)
    app = create_app(PaperConfig(redis=client, name="latency", speed=FROZEN, assets=assets))
    arrivals = Arrivals()
    instrument(app.state.engine, arrivals)
    venue = BackgroundServer(app, port=free_port()).start()
    try:
        yield Venue(venue.url, server.url, app.state.engine, arrivals)
    finally:
        venue.stop()
        client.close()
        server.stop()


@contextmanager
def runner_process(
    root: Path, venue: Venue, bot: str, tick_s: float, gap_ms: float, timer_only: bool
) -> Iterator[subprocess.Popen[bytes]]:
    strategies = root / f"strategies-{bot}"
    strategies.mkdir(parents=True, exist_ok=True)
    (strategies / "latency_probe.py").write_text(STRATEGY)
    args = [
        sys.executable, "-m", "control", "run", "--home", str(root / f"home-{bot}"),
        "--redis-url", venue.redis_url, "--bot", bot, "--strategies", str(strategies),
        "--replica", "r1", "--venue-url", venue.url, "--tick", str(tick_s),
        "--market-ws", f"{venue.ws}/ws/market", "--user-ws", f"{venue.ws}/ws/user",
        "--price-ws", f"{venue.ws}/ws/live-data", "--event-gap-ms", str(gap_ms),
        "--book-stale-s", str(FROZEN_BOOK_STALE_S),
    ]  # fmt: skip
    if timer_only:
        args.append("--timer-ticks")
    home = root / f"home-{bot}"  # the probe buys far past the default risk limits
    set_risk_limits(Settings(home, venue.redis_url, bot, strategies), ROOMY_RISK)
    log = open(root / f"{bot}.log", "ab")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def live_up_tokens(venue: Venue) -> dict[str, str]:
    """Live market -> its Up token."""
    with ClobClient(venue.url) as client:
        now = client.server_time()
        return {w.slug: w.up_token for w in client.list_windows() if w.start_ts <= now < w.end_ts}


def wait_leased(venue: Venue, bot: str, markets: list[str], timeout_s: float = 60.0) -> None:
    """Until the runner holds every market and has ticked a few times."""
    client = redis.Redis.from_url(venue.redis_url, decode_responses=True)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            section = read_runner(client, Keys(bot), "r1")
            if section is not None and set(markets) <= set(section.markets) and section.tick >= 3:
                return
            time.sleep(0.1)
    finally:
        client.close()
    raise RuntimeError(f"runner of {bot} did not lease {markets} within {timeout_s} s")


def runner_ticks(venue: Venue, bot: str) -> int:
    """The runner's tick count, from its heartbeat (written at least once a timer period)."""
    client = redis.Redis.from_url(venue.redis_url, decode_responses=True)
    try:
        section = read_runner(client, Keys(bot), "r1")
    finally:
        client.close()
    return section.tick if section is not None else 0


class Driver:
    """Marks books and pairs each mark with the order that answers it."""

    def __init__(self, venue: Venue, tokens: list[str], rng: random.Random, spread_s: float):
        self.venue = venue
        self.tokens = tokens
        self.rng = rng
        self.spread_s = spread_s
        self.http = httpx.Client(base_url=venue.url, timeout=10.0)
        self.next_n = 0

    def mark(self, token: str) -> tuple[int, float]:
        n = self.next_n = self.next_n + 1
        reply = self.http.post("/paper/books/mark", json={"token_id": token, "size": MARK + n})
        reply.raise_for_status()
        return n, float(reply.json()["changed_at"])

    def run(self, events: int) -> dict[str, Any]:
        samples: list[float] = []
        lost = 0
        outstanding: dict[str, tuple[int, float]] = {}  # token -> (n, changed_at)
        due = {t: time.monotonic() + self.rng.uniform(0, self.spread_s) for t in self.tokens}
        self.venue.arrivals.take(0)  # orders answering older marks are not this run's
        while len(samples) + lost < events:
            now = time.monotonic()
            for token, at in list(due.items()):
                if at <= now:
                    del due[token]
                    outstanding[token] = self.mark(token)
            waits = [at - now for at in due.values()] + [0.05]
            for arrived, token, shares in self.venue.arrivals.take(max(0.0, min(waits))):
                event = outstanding.get(token)
                if event is None or (int(shares) - 5) % 1000 != event[0] % 1000:
                    continue  # an answer to an earlier mark
                samples.append(arrived - event[1])
                del outstanding[token]
                due[token] = time.monotonic() + self.rng.uniform(0, self.spread_s)
            for token, (_, changed_at) in list(outstanding.items()):
                if time.time() - changed_at > EVENT_TIMEOUT_S:
                    lost += 1
                    del outstanding[token]
                    due[token] = time.monotonic()
        self.http.close()
        return {"latency": summary_ms(samples), "lost": lost}


def run_mode(
    root: Path, venue: Venue, mode: str, events: int, markets: int, tick_s: float,
    gap_ms: float, spread_s: float, seed: int,
) -> dict[str, Any]:  # fmt: skip
    bot = f"latency-{mode}"
    live = live_up_tokens(venue)
    chosen = sorted(live)[:markets]
    with runner_process(root, venue, bot, tick_s, gap_ms, timer_only=mode == "timer"):
        wait_leased(venue, bot, sorted(live))
        driver = Driver(venue, [live[m] for m in chosen], random.Random(seed), spread_s)
        began, ticks_before = time.monotonic(), runner_ticks(venue, bot)
        result = driver.run(events)
        seconds, ticks = time.monotonic() - began, runner_ticks(venue, bot) - ticks_before
    result["ticks_per_s"] = round(ticks / seconds, 2)  # the cost side: ticks the runner made
    result["markets_changed"] = len(chosen)
    result["markets_leased"] = len(live)
    return result


def run_latency_bench(
    events: int = 500, markets: int = 4, tick_s: float = 1.0, gap_ms: float = 20.0,
    spread_s: float = 1.0, assets: tuple[str, ...] = ("btc", "eth"), seed: int = 7,
    modes: tuple[str, ...] = MODES,
) -> dict[str, Any]:  # fmt: skip
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="nb-latency-") as tmp:
        root = Path(tmp)
        with venue_system(root, assets) as venue:
            results = {
                mode: run_mode(root, venue, mode, events, markets, tick_s, gap_ms, spread_s, seed)
                for mode in modes
            }
    return {
        "events_per_mode": events,
        "tick_s": tick_s,
        "event_gap_ms": gap_ms,
        "spread_s": spread_s,
        **results,
    }
