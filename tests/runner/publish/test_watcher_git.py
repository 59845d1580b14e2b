"""Git checkouts: only a commit's complete tree is published, never a half-applied one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from state_store.manifest import ManifestEntry
from tests.runner.publish.conftest import StartWatcher
from tests.runner.publish.helpers import (
    HOOKS,
    assert_only,
    commit_all,
    entries,
    generation,
    git,
    init_repo,
    published,
    wait_for,
    wait_published,
    write_all,
)

STRATEGIES = 19  # + the helper: a checkout changes 20 files


def version(tag: str) -> dict[str, str]:
    """A tree whose strategies all import the helper; B's need B's helper (BONUS)."""
    bonus = "BONUS = 1\n" if tag == "B" else ""
    sources = {"_common.py": f"{bonus}\n\ndef tag(x):\n    return x + '-{tag}'\n"}
    uses = "BONUS = _common.BONUS\n" if tag == "B" else ""
    for i in range(STRATEGIES):
        sources[f"s{i:02d}.py"] = (
            f"from . import _common\n{uses}\n\ndef decide(view):\n"
            f"    return [_common.tag('s{i:02d} {tag}')]\n"
        )
    return sources


A, B = version("A"), version("B")


def wait_published_last(client: redis.Redis, gen: str, what: str) -> None:
    wait_for(lambda: published(client)[-1:] == [gen], what)


def dirty_holds(client: redis.Redis) -> list[ManifestEntry]:
    return [e for e in entries(client, kind="held") if "differs from HEAD" in e.error]


def repo_at_a_and_b(tmp_path: Path, hooks: bool) -> tuple[Path, str, str]:
    """A checkout at A; B changes all 20 files. A smudge filter that sleeps makes a
    checkout write s10..s18 one every ~0.1 s, so the watcher sees it half-way, batch
    after batch, in states that hold still longer than its quiet window."""
    repo = init_repo(tmp_path / "checkout", hooks)
    folder = repo / "strategies"
    folder.mkdir()
    (repo / "README").write_text("deploy checkout\n")
    (repo / ".gitattributes").write_text("strategies/s1*.py filter=slow\n")
    git(repo, "config", "filter.slow.smudge", "sleep 0.1; cat")
    git(repo, "config", "filter.slow.clean", "cat")
    write_all(folder, A)
    sha_a = commit_all(repo, "A")
    write_all(folder, B)
    sha_b = commit_all(repo, "B: every file changes, strategies need the new helper")
    git(repo, "checkout", "-q", "--detach", sha_a)
    return repo, sha_a, sha_b


@pytest.mark.parametrize("hooks", [True, False], ids=["deploy-checkout", "dev-checkout"])
def test_checkouts_of_20_files_publish_only_whole_commits(
    start_watcher: StartWatcher, tmp_path: Path, real_redis: redis.Redis, hooks: bool
) -> None:
    repo, sha_a, sha_b = repo_at_a_and_b(tmp_path, hooks)
    folder = repo / "strategies"
    g_a, g_b = generation(folder, A), generation(folder, B)
    start_watcher(folder)
    wait_published(real_redis, g_a)

    for i in range(4):
        sha, gen = (sha_b, g_b) if i % 2 == 0 else (sha_a, g_a)
        git(repo, "checkout", "-q", "--detach", sha)
        wait_published_last(real_redis, gen, f"checkout {i} live")

    assert_only(real_redis, [g_a, g_b])
    assert entries(real_redis, kind="rejected") == []  # no mixed tree was even validated
    last = entries(real_redis, kind="published")[-1]
    assert (last.git_sha, last.git_dirty) == (sha_a, False)
    if hooks:
        assert last.trigger == "deploy"


def test_a_pull_in_a_deploy_checkout_publishes_the_marked_commit(
    start_watcher: StartWatcher, tmp_path: Path, real_redis: redis.Redis
) -> None:
    work = init_repo(tmp_path / "work", hooks=False)
    (work / "strategies").mkdir()
    write_all(work / "strategies", A)
    commit_all(work, "A")
    deploy = tmp_path / "deploy"
    git(tmp_path, "clone", "-q", str(work), "deploy")
    git(deploy, "config", "core.hooksPath", str(HOOKS))
    git(deploy, "checkout", "-q", "--detach", "HEAD")  # post-checkout: the first marker
    git(deploy, "checkout", "-q", "main")
    folder = deploy / "strategies"
    start_watcher(folder)
    wait_published(real_redis, generation(folder, A))

    write_all(work / "strategies", B)
    sha_b = commit_all(work, "B")
    git(deploy, "pull", "-q", "--ff-only")
    entry = wait_published(real_redis, generation(folder, B))

    marker = (deploy / ".git" / "neverblink-deployed").read_text()
    assert sha_b in marker and '"hook": "post-merge"' in marker
    assert (entry.git_sha, entry.trigger) == (sha_b, "deploy")
    assert_only(real_redis, [generation(folder, A), generation(folder, B)])


def test_an_interrupted_checkout_is_held_until_it_is_completed(
    start_watcher: StartWatcher, tmp_path: Path, real_redis: redis.Redis
) -> None:
    """Interrupted = git stopped after writing some files (killed, failed, or its stale
    index.lock removed by hand): HEAD and the index stay on A, the folder is half B."""
    repo, _, sha_b = repo_at_a_and_b(tmp_path, hooks=True)
    folder = repo / "strategies"
    g_a, g_b = generation(folder, A), generation(folder, B)
    start_watcher(folder, hook_grace=0.5)
    wait_published(real_redis, g_a)

    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    half = dict(sorted(B.items())[:10])  # the helper and 9 strategies: a valid mixed tree
    write_all(folder, half)
    time.sleep(0.5)
    lock.unlink()  # the lock goes away, the checkout never finishes
    wait_for(lambda: dirty_holds(real_redis), "the hold reported")
    held = dirty_holds(real_redis)[-1]
    time.sleep(1.0)  # well past the quiet window, the hook grace and a few retries

    assert "s08.py" in held.error and "s09.py" not in held.error
    assert published(real_redis) == [g_a]

    git(repo, "checkout", "-q", "-f", "--detach", sha_b)  # finish it: the hook marks B
    wait_published(real_redis, g_b)
    assert_only(real_redis, [g_a, g_b])
    assert entries(real_redis, kind="rejected") == []


def test_head_moved_without_a_hook_waits_then_accepts_only_the_commits_tree(
    start_watcher: StartWatcher, tmp_path: Path, real_redis: redis.Redis
) -> None:
    repo, _, sha_b = repo_at_a_and_b(tmp_path, hooks=True)
    folder = repo / "strategies"
    g_a, g_b = generation(folder, A), generation(folder, B)
    start_watcher(folder, hook_grace=0.5)
    wait_published(real_redis, g_a)

    git(repo, "update-ref", "--no-deref", "HEAD", sha_b)  # HEAD moved, files half written
    write_all(folder, dict(sorted(B.items())[:10]))
    time.sleep(1.5)
    assert published(real_redis) == [g_a]

    git(repo, "reset", "-q", "--hard", sha_b)  # runs no hook: accepted after the grace
    entry = wait_published(real_redis, g_b)
    assert (entry.git_sha, entry.trigger) == (sha_b, "commit")
    assert_only(real_redis, [g_a, g_b])


def test_nothing_is_published_while_index_lock_exists(
    start_watcher: StartWatcher, tmp_path: Path, real_redis: redis.Redis
) -> None:
    repo, sha_a, _ = repo_at_a_and_b(tmp_path, hooks=False)
    folder = repo / "strategies"
    g_a = generation(folder, A)
    start_watcher(folder)
    wait_published(real_redis, g_a)

    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    edited = {**A, "s00.py": A["s00.py"].replace("s00 A", "s00 edited")}
    write_all(folder, edited)
    wait_for(lambda: entries(real_redis, kind="held"), "the lock hold reported")
    assert published(real_redis) == [g_a]
    assert "index.lock exists" in entries(real_redis, kind="held")[-1].error

    lock.unlink()  # a development checkout: edits are saves
    entry = wait_published(real_redis, generation(folder, edited))
    assert (entry.git_sha, entry.git_dirty, entry.trigger) == (sha_a, True, "save")
