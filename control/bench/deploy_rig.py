"""A git deploy set-up as real processes: origin, deploy checkout, venue, watcher, runners.

    with DeployRig(RigConfig(root, redis_url, replicas=2)) as rig:
        deploy = rig.deploy(1)                       # commit in `work`, `git pull` in `deploy`
        seen = rig.wait_confirmed(deploy.sha, 30)    # replica -> when its status showed the SHA

Layout under `root`: `work/` (where a developer commits; the origin), `deploy/`
(a clone with deploy/hooks as core.hooksPath; its `strategies/` is what the
watcher and runners use), `home/` (shared by the watcher and every runner),
`logs/<process>.log`. Used by `neverblink bench deploy` and the end-to-end test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import redis

from control.bench.http_wait import wait_http
from state_store.keys import Keys
from state_store.private_redis import free_port
from state_store.status import RunnerStatus, read_status_file

REPO = Path(__file__).resolve().parents[2]  # control/bench/ -> the checkout
HOOKS = REPO / "deploy" / "hooks"
STRATEGIES = REPO / "strategies"
HELPER = "_common.py"  # each deploy changes the helper: every strategy reloads


@dataclass(frozen=True)
class RigConfig:
    root: Path
    redis_url: str
    replicas: int = 2
    tick_s: float = 0.1
    bot: str = "default"
    source: Path = STRATEGIES  # copied into the first commit
    # Ticks of probation for the runners. 0 here: on a loaded machine a decide that
    # overruns its budget in the first ticks counts as a failure and rolls a good
    # deploy back (and quarantines it), which measures load, not the deploy path.
    probation: int = 0


@dataclass(frozen=True)
class Deploy:
    sha: str
    marked_at: float  # the hook's own timestamp (unix time) in the deploy marker
    pull_started: float  # unix time just before `git pull`


class Child:
    """One process; its output goes to a log file."""

    def __init__(self, name: str, args: list[str], log: Path) -> None:
        self.name = name
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


def neverblink(*args: str) -> list[str]:
    return [sys.executable, "-m", "control", *args]


class DeployRig:
    def __init__(self, config: RigConfig) -> None:
        self.config = config
        root = config.root
        self.work, self.checkout, self.home = root / "work", root / "deploy", root / "home"
        self.logs = root / "logs"
        self.children: dict[str, Child] = {}
        self.replicas = [f"r{i + 1}" for i in range(config.replicas)]

    @property
    def strategies(self) -> Path:
        return self.checkout / "strategies"

    @property
    def status_file(self) -> Path:
        return self.home / "status.json"

    def __enter__(self) -> DeployRig:
        try:
            self._repos()
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for child in reversed(list(self.children.values())):
            child.stop()
        self.children.clear()

    # -- set-up ----------------------------------------------------------------
    def _repos(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.work / "strategies").mkdir(parents=True)
        for source in sorted(self.config.source.glob("*.py")):
            shutil.copy(source, self.work / "strategies" / source.name)
        git(self.work, "init", "-q", "-b", "main")
        for key, value in (("user.email", "bench@example.com"), ("user.name", "bench")):
            git(self.work, "config", key, value)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", "initial")
        git(self.config.root, "clone", "-q", str(self.work), str(self.checkout))
        git(self.checkout, "config", "core.hooksPath", str(HOOKS))
        subprocess.run([str(HOOKS / "post-checkout")], cwd=self.checkout, check=True)  # 1st marker

    def _start(self) -> None:
        cfg = self.config
        common = ["--redis-url", cfg.redis_url, "--bot", cfg.bot, "--home", str(self.home)]
        port = free_port()
        venue_home = str(cfg.root / "venue-home")
        venue = neverblink("venue", "--port", str(port), "--redis-url", cfg.redis_url)
        self._spawn("venue", [*venue, "--home", venue_home, "--window-seconds", "60"])
        venue_url = f"http://127.0.0.1:{port}"
        wait_http(venue_url + "/time")
        where = ["--strategies", str(self.strategies)]
        self._spawn("watch", neverblink("watch", *common, *where))
        for replica in self.replicas:
            args = ["--replica", replica, "--tick", str(cfg.tick_s), "--venue-url", venue_url]
            args += ["--probation", str(cfg.probation)]
            self._spawn(replica, neverblink("run", *common, *where, *args))
        self.wait_confirmed(git(self.checkout, "rev-parse", "HEAD"), 60.0)
        self._wait_following(60.0)

    def _wait_following(self, timeout: float) -> None:
        """Until the watcher published and every runner ticked since (so it follows it)."""
        client = redis.Redis.from_url(self.config.redis_url, decode_responses=True)
        deadline = time.monotonic() + timeout
        try:
            while True:
                published = float(client.hget(Keys(self.config.bot).code, "validated_at") or 0)
                ticked = [s.last_tick_at for s in self.sections().values()]
                n = len(self.replicas)
                if published and len(ticked) == n and min(ticked) > published + self.config.tick_s:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the watcher did not publish in {timeout:g} s")
                self._check_alive()
                time.sleep(0.02)
        finally:
            client.close()

    def _spawn(self, name: str, args: list[str]) -> None:
        self.children[name] = Child(name, args, self.logs / f"{name}.log")

    # -- deploys -----------------------------------------------------------------
    def deploy(self, n: int) -> Deploy:
        """Commit a change of the helper in `work`, then `git pull` in the deploy checkout."""
        helper = self.work / "strategies" / HELPER
        with open(helper, "a") as out:
            out.write(f"DEPLOY_{n} = {n}\n")
        git(self.work, "commit", "-q", "-am", f"deploy {n}")
        sha = git(self.work, "rev-parse", "HEAD")
        started = time.time()
        git(self.checkout, "pull", "-q", "--ff-only")
        marker = json.loads((self.checkout / ".git" / "neverblink-deployed").read_text())
        if marker["sha"] != sha:
            raise RuntimeError(f"the hook marked {marker['sha']}, expected {sha}")
        return Deploy(sha, float(marker["ts"]), started)

    def sections(self) -> dict[str, RunnerStatus]:
        try:
            return read_status_file(self.status_file).runners
        except OSError:
            return {}

    def wait_confirmed(self, sha: str, timeout: float, poll: float = 0.005) -> dict[str, float]:
        """replica -> the heartbeat (unix time) of its first status section showing `sha`."""
        deadline = time.monotonic() + timeout
        seen: dict[str, float] = {}
        while len(seen) < len(self.replicas):
            for replica, section in self.sections().items():
                if replica not in seen and section.code.git_sha == sha:
                    seen[replica] = section.heartbeat or time.time()
            if time.monotonic() > deadline:
                missing = sorted(set(self.replicas) - set(seen))
                raise TimeoutError(
                    f"{missing} did not confirm {sha[:12]} in {timeout:g} s: {self._why(missing)}"
                )
            self._check_alive()
            time.sleep(poll)
        return seen

    def _why(self, replicas: list[str]) -> str:
        sections = self.sections()
        parts = []
        for replica in replicas:
            section = sections.get(replica)
            if section is None:
                parts.append(f"{replica}: no section in status.json")
                continue
            parts.append(
                f"{replica}: tick {section.tick} sha {section.code.git_sha[:12]} "
                f"error {section.last_loop_error or section.last_errors!r}"
            )
        watch_log = (self.logs / "watch.log").read_text()[-1500:]
        return "; ".join(parts) + f" (logs in {self.logs}); watch.log ends:\n{watch_log}"

    def _check_alive(self) -> None:
        for name, child in self.children.items():
            if child.proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({child.proc.returncode}); see {self.logs}")
