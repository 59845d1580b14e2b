"""`neverblink demo`: the whole bot on one machine, supervised, with a compact live log.

What runs is one table (`plan`): the paper venue, the reload watcher, N
runner replicas, an rq worker and Mission Control, each a
`python -m control <command>` child with the shared settings passed through.
A command this installation does not have (`watch` or `serve` while they are
being built) is skipped with a note. The embedded Redis of the home is
started first unless a Redis URL is given; a Redis the demo started is
stopped again at the end (one that already ran is left running).
"""

from __future__ import annotations

import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import FrameType

import httpx
import redis

from control.demo_summary import summary_line
from control.supervise import ChildSpec, Echo, Supervisor
from exchange.factory import VenueSpec
from runner.jobs import retarget_jobs, rq_connection
from state_store.connection import connect, describe_target, redis_available
from state_store.embedded import embedded_socket_path, ensure_embedded_redis, stop_embedded_redis
from state_store.private_redis import free_port
from state_store.settings import Settings

POLL_S = 0.2
VENUE_READY_S = 30.0
SERVE_READY_S = 30.0
STOP_TIMEOUT_S = 20.0
ACCESS_LOG = re.compile(r'"(GET|POST|PATCH|PUT|DELETE) [^"]*" \d{3}|HTTP Request: ')
# rq's per-job INFO lines; its warnings and errors still show
RQ_CHATTER = re.compile(r"(?i)^(?!.*(error|exception|traceback|fail|abandon|kill)).* rq\.\w+ ")


class DemoError(RuntimeError):
    """The demo cannot run; the message says why and what to do."""


@dataclass(frozen=True)
class DemoOptions:
    settings: Settings
    replicas: int = 2
    tick_s: float = 0.5
    speed: float = 10.0
    # The venue's books price more volatility than the example momentum strategy assumes
    # (0.6), so it finds an edge late in a window and trades; equal vols leave no edge.
    venue_vol: float = 1.2
    port: int = 8791
    venue_port: int = 0  # 0: a free port
    duration: float | None = None  # seconds, then stop (tests, CI)
    verbose: bool = False
    summary_every_s: float = 5.0


def plan(opts: DemoOptions, venue_url: str, venue_port: int) -> list[tuple[str, str, list[str]]]:
    """Every child as (name, neverblink command, its own arguments), in start order."""
    runners = [
        (f"runner-{i}", "run", ["--replica", f"r{i}", "--tick", f"{opts.tick_s:g}",
                                "--venue-url", venue_url])
        for i in range(1, opts.replicas + 1)
    ]  # fmt: skip
    return [
        (
            "venue",
            "venue",
            ["--port", str(venue_port), "--speed", f"{opts.speed:g}", "--vol", "1.2"],
        ),
        ("watch", "watch", []),
        *runners,
        ("worker", "worker", ["--venue-url", venue_url]),
        ("serve", "serve", ["--port", str(opts.port)]),
    ]


def settings_args(settings: Settings) -> list[str]:
    args = ["--home", str(settings.home), "--bot", settings.bot]
    args += ["--strategies", str(settings.strategies)]
    return args + (["--redis-url", settings.redis_url] if settings.redis_url else [])


def available_commands() -> set[str]:
    from control.cli import main

    return set(main.commands)


def child_specs(opts: DemoOptions, venue_url: str, venue_port: int, echo: Echo) -> list[ChildSpec]:
    known = available_commands()
    specs = []
    for name, command, args in plan(opts, venue_url, venue_port):
        if command not in known:
            echo(f"[demo] `neverblink {command}` is not available in this version: no {name}")
            continue
        argv = [sys.executable, "-m", "control", command, *args, *settings_args(opts.settings)]
        specs.append(ChildSpec(name, argv, quiet=(ACCESS_LOG, RQ_CHATTER)))
    return specs


def ensure_strategies(folder: Path, echo: Echo) -> None:
    """A fresh checkout has ./strategies; elsewhere, start from the packaged examples."""
    if folder.is_dir():
        return
    folder.mkdir(parents=True)
    for item in resources.files("strategies").iterdir():
        if item.name.endswith(".py"):
            (folder / item.name).write_text(item.read_text())
    echo(f"[demo] copied the example strategies to {folder}")


def start_redis(settings: Settings, echo: Echo) -> bool:
    """Make sure the bot's Redis answers; True when the demo started the embedded one."""
    if settings.redis_url:
        client = connect(settings)
        try:
            if not redis_available(client, 2.0):
                raise DemoError(
                    f"Redis at {describe_target(settings)} does not answer; the demo keeps "
                    "everything in it. Check --redis-url / NEVERBLINK_REDIS_URL, or leave it "
                    "unset to use the home's embedded Redis"
                )
        finally:
            client.close()
        return False
    socket_path = embedded_socket_path(settings.home)
    probe = redis.Redis(unix_socket_path=str(socket_path))
    running = socket_path.exists() and redis_available(probe)
    probe.close()
    ensure_embedded_redis(settings.home)
    if not running:
        echo(f"[demo] embedded Redis started on {socket_path}")
    return not running


def check_port_free(port: int) -> None:
    """Mission Control's port must be free: a second demo would show the first one's dashboard."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise DemoError(
                f"port {port} for Mission Control is taken ({exc.strerror}); is another demo "
                "running? Stop it, or pass --port"
            ) from None


def wait_http(url: str, timeout: float, alive: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(url, timeout=0.5).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


class Demo:
    def __init__(self, opts: DemoOptions, echo: Echo) -> None:
        self.opts = opts
        self.echo = echo
        self.stop = threading.Event()
        self.sup = Supervisor(opts.settings.home / "logs", echo, opts.verbose)
        self.started_redis = False
        self.started_at = time.time()

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop.is_set():  # a second Ctrl-C: no more waiting
            self.echo("[demo] stopping now")
            self.sup.kill_all()
        self.stop.set()

    def run(self) -> int:
        s = self.opts.settings
        ensure_strategies(s.strategies, self.echo)
        check_port_free(self.opts.port)
        self.started_redis = start_redis(s, self.echo)
        self.started_at = time.time()
        try:
            self._start_children()
            self._banner(self._mission_control_up())
            self._supervise()
        finally:
            self._shutdown()
        return 0

    def _start_children(self) -> None:
        venue_port = self.opts.venue_port or free_port()
        venue_url = f"http://127.0.0.1:{venue_port}"
        for spec in child_specs(self.opts, venue_url, venue_port, self.echo):
            self.sup.start(spec)
            if spec.name == "venue":
                alive = lambda: "venue" in self.sup.running()  # noqa: E731
                if not wait_http(venue_url + "/time", VENUE_READY_S, alive):
                    log = self.opts.settings.home / "logs" / "venue.log"
                    raise DemoError(f"the paper venue did not answer on {venue_url}; see {log}")
                self._retarget_jobs(venue_url)

    def _retarget_jobs(self, venue_url: str) -> None:
        """Jobs an earlier run left waiting go to this run's venue, not the earlier one's."""
        conn = rq_connection(self.opts.settings)
        try:
            moved = retarget_jobs(conn, self.opts.settings.bot, VenueSpec("paper", venue_url))
        finally:
            conn.close()
        if moved:
            self.echo(f"[demo] {moved} waiting job(s) of an earlier run now use this venue")

    def _mission_control_up(self) -> bool:
        """Wait until Mission Control answers (the banner must not send anyone to a dead URL)."""
        if "serve" not in self.sup.children:
            return False

        def alive() -> bool:
            return "serve" in self.sup.running()

        url = f"http://127.0.0.1:{self.opts.port}/healthz"
        return wait_http(url, SERVE_READY_S, alive) and alive()

    def _banner(self, mission_control: bool) -> None:
        s = self.opts.settings
        lines = [f"[demo] bot {s.bot!r}, home {s.home}, strategies {s.strategies}"]
        if mission_control:
            lines.append(f"[demo] Mission Control: http://127.0.0.1:{self.opts.port}/")
            lines.append(f"[demo] API token: {s.api_token()}")
        elif "serve" in self.sup.children:
            log = s.home / "logs" / "serve.log"
            lines.append(f"[demo] Mission Control did not start; see {log}")
        lines.append(f"[demo] logs in {s.home / 'logs'}; Ctrl-C stops everything")
        for line in lines:
            self.echo(line)

    def _supervise(self) -> None:
        started = time.monotonic()
        next_summary = started + self.opts.summary_every_s
        client = connect(self.opts.settings)
        try:
            while not self.stop.is_set():
                if (
                    self.opts.duration is not None
                    and time.monotonic() - started >= self.opts.duration
                ):
                    break
                self.sup.poll()
                if time.monotonic() >= next_summary:
                    next_summary += self.opts.summary_every_s
                    elapsed = time.monotonic() - started
                    line = summary_line(self.opts.settings, client, elapsed, self.started_at)
                    self.echo(line)
                self.stop.wait(POLL_S)
        finally:
            client.close()

    def _shutdown(self) -> None:
        self.echo(
            "[demo] stopping: runners first (they release their leases), then the worker "
            "(it finishes its job while the venue still answers), then the rest"
        )
        runners = [n for n in self.sup.children if n.startswith("runner-")]
        killed = self.sup.stop_all(STOP_TIMEOUT_S, first=runners, then=["worker"])
        if killed:
            self.echo(f"[demo] killed after {STOP_TIMEOUT_S:g} s: {', '.join(killed)}")
        if self.started_redis:
            stop_embedded_redis(self.opts.settings.home)
            self.echo("[demo] embedded Redis stopped")
        self.echo("[demo] stopped")


def run_demo(opts: DemoOptions, echo: Echo) -> int:
    demo = Demo(opts, echo)
    previous = {
        sig: signal.signal(sig, demo.request_stop)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        return demo.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
