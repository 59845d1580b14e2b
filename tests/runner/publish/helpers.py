"""Helpers for watcher tests: strategy sources, git repos, a watcher in a thread, the manifest."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import redis

from runner.publish.publisher import Publisher, PublishOptions
from runner.reload import make_tree
from state_store.keys import Keys
from state_store.manifest import ManifestEntry, recent
from state_store.settings import Settings

REPO = Path(__file__).resolve().parents[3]
HOOKS = REPO / "deploy" / "hooks"
WAIT = 30.0  # bound for "eventually"; nothing here asserts speed


def strategy(value: str) -> str:
    return f"def decide(view):\n    return [{value!r}]\n"


def generation(directory: Path, sources: dict[str, str]) -> str:
    """The generation of a tree with exactly these sources."""
    return make_tree(directory, {n: s.encode() for n, s in sources.items()}).generation


def write_all(directory: Path, sources: dict[str, str]) -> None:
    for name, text in sources.items():
        (directory / name).write_text(text)


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.01)


def entries(client: redis.Redis, bot: str = "default", kind: str = "") -> list[ManifestEntry]:
    """The watcher's manifest entries, oldest first (optionally of one kind)."""
    found = recent(client, Keys(bot), count=5000)
    return [e for e in found if e.replica == "watcher" and (not kind or e.kind == kind)]


def published(client: redis.Redis, bot: str = "default") -> list[str]:
    return [e.generation for e in entries(client, bot, "published")]


def wait_published(client: redis.Redis, gen: str, bot: str = "default") -> ManifestEntry:
    wait_for(lambda: gen in published(client, bot), f"generation {gen} published")
    return next(e for e in entries(client, bot, "published") if e.generation == gen)


def assert_only(client: redis.Redis, allowed: Iterable[str], bot: str = "default") -> None:
    """Every generation ever published is one of `allowed` (complete trees that existed)."""
    stray = [g for g in published(client, bot) if g not in set(allowed)]
    assert not stray, f"published trees that never existed as a whole: {stray}"


class Running:
    """A watcher running in a thread; stop() joins it."""

    def __init__(self, watcher: Publisher) -> None:
        self.watcher = watcher
        self.thread = threading.Thread(target=watcher.run, name="test-watcher", daemon=True)
        self.thread.start()
        wait_for(lambda: watcher.active, "the watcher lease")

    def stop(self) -> None:
        self.watcher.stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "watcher did not stop"


def watcher_options(**overrides: Any) -> PublishOptions:
    defaults: dict[str, Any] = {"quiet": 0.05, "lease_ttl": 2.0, "hold_report": 0.3}
    return PublishOptions(**{**defaults, **overrides})


def make_settings(home: Path, redis_url: str, strategies: Path, bot: str = "default") -> Settings:
    return Settings.resolve(str(home), redis_url, bot, str(strategies))


# -- git ------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def init_repo(path: Path, hooks: bool) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "test")
    git(path, "config", "commit.gpgsign", "false")
    if hooks:
        git(path, "config", "core.hooksPath", str(HOOKS))
    return path


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")
