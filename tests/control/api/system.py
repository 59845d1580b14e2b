"""A real neverblink system for the browser test: paper venue, runner replicas, `serve`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from state_store.private_redis import free_port

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 30.0


class Proc:
    """One child process, its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args, self.log = args, log
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=REPO
            )
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.log.name} ---\n" + "\n".join(text.splitlines()[-lines:])


def wait_http(url: str, proc: Proc, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.proc is not None and proc.proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited early\n{proc.tail()}")
        try:
            if httpx.get(url, timeout=0.5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s\n{proc.tail()}")


def copy_strategies(target: Path) -> Path:
    """The repo's example strategies, in a git repository of their own (for git SHAs)."""
    target.mkdir(parents=True)
    for source in (REPO / "strategies").glob("*.py"):
        if source.name != "__init__.py":
            shutil.copy(source, target / source.name)
    git(target, "init", "-q")
    commit(target, "strategies")
    return target


def git(directory: Path, *args: str) -> None:
    identity = ["-c", "user.name=neverblink test", "-c", "user.email=test@neverblink.invalid"]
    subprocess.run(["git", "-C", str(directory), *identity, *args], check=True, capture_output=True)


def commit(directory: Path, message: str) -> None:
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "-m", message)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def start_venue(
    tmp: Path, redis_url: str, *clock: str, window_seconds: int = 60
) -> tuple[Proc, str]:
    """The paper venue; `clock`: more venue flags (e.g. --speed 10 --start-ts T)."""
    port = free_port()
    args = python(
        "-m", "control", "venue", "--port", str(port), "--redis-url", redis_url,
        "--home", str(tmp / "venue-home"), "--window-seconds", str(window_seconds),
        "--seed", "5", *clock,
    )  # fmt: skip
    proc = Proc(args, tmp / "venue.log").start()
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/time", proc)
    return proc, url


def start_runner(
    tmp: Path, replica: str, redis_url: str, venue_url: str, strategies: Path, home: Path
) -> Proc:
    args = python(
        "-m", "control", "run", "--replica", replica, "--tick", "0.2",
        "--redis-url", redis_url, "--venue-url", venue_url, "--strategies", str(strategies),
        "--home", str(home), "--probation", "10",
    )  # fmt: skip
    return Proc(args, tmp / f"runner-{replica}.log").start()


def start_serve(
    tmp: Path, redis_url: str, strategies: Path, home: Path, token: str
) -> tuple[Proc, str]:
    port = free_port()
    args = python(
        "-m", "control", "serve", "--port", str(port), "--redis-url", redis_url,
        "--strategies", str(strategies), "--home", str(home), "--poll", "0.25",
    )  # fmt: skip
    proc = Proc(args, tmp / "serve.log", env={"NEVERBLINK_API_TOKEN": token}).start()
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc)
    return proc, url
