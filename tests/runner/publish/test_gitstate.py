"""Git facts the gate relies on: blob ids from bytes, a commit's folder, the deploy marker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from runner.publish.gate import save_in_progress
from runner.publish.gitstate import Checkout, blob_id, differs_from
from runner.reload import read_tree
from tests.runner.publish.helpers import HOOKS, commit_all, git, init_repo


def test_blob_ids_match_git_hash_object(tmp_path: Path) -> None:
    for data in (b"", b"def decide(view):\n    return []\n", bytes(range(256)) * 10):
        path = tmp_path / "blob"
        path.write_bytes(data)
        assert blob_id(data) == git(tmp_path, "hash-object", str(path))


def test_a_commits_folder_and_the_files_that_differ_from_it(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", hooks=False)
    folder = repo / "strategies"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.py").write_text("A = 1\n")
    (folder / "_common.py").write_text("X = 1\n")
    (folder / "__init__.py").write_text("")
    (folder / "notes.txt").write_text("not source\n")
    (folder / "sub" / "deep.py").write_text("not in the tree\n")
    (repo / "top.py").write_text("outside the folder\n")
    sha = commit_all(repo, "one")
    checkout = Checkout.discover(folder)
    assert checkout is not None and checkout.prefix == "strategies/"

    committed = checkout.committed(sha)

    assert sorted(committed) == ["_common.py", "a.py"]
    assert differs_from(read_tree(folder), committed) == []
    (folder / "a.py").write_text("A = 2\n")
    (folder / "b.py").write_text("B = 1\n")
    (folder / "_common.py").unlink()
    assert differs_from(read_tree(folder), committed) == ["_common.py", "a.py", "b.py"]


def test_state_sees_the_lock_and_the_hooks_marker(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", hooks=True)
    (repo / "s").mkdir()
    (repo / "s" / "a.py").write_text("A = 1\n")
    sha = commit_all(repo, "one")  # post-commit writes the marker
    checkout = Checkout.discover(repo / "s")
    assert checkout is not None

    state = checkout.state()
    assert (state.head, state.locked) == (sha, False)
    assert state.marker is not None
    assert (state.marker.sha, state.marker.hook) == (sha, "post-commit")
    assert abs(state.marker.ts - time.time()) < 600
    (repo / ".git" / "index.lock").write_text("")
    assert checkout.state().locked
    assert HOOKS.is_dir()


def test_the_hook_writes_valid_json_even_from_a_worktree(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", hooks=True)
    (repo / "a.py").write_text("A = 1\n")
    sha = commit_all(repo, "one")
    git(repo, "worktree", "add", "-q", "--detach", str(tmp_path / "wt"), sha)
    checkout = Checkout.discover(tmp_path / "wt")
    assert checkout is not None and checkout.git_dir != checkout.common_dir
    marker = json.loads(checkout.marker_file.read_text())
    assert (marker["sha"], marker["hook"]) == (sha, "post-checkout")


def test_outside_git_there_is_no_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert Checkout.discover(tmp_path) is None


def test_editor_saves_in_progress(tmp_path: Path) -> None:
    now = time.time()
    assert save_in_progress(tmp_path, now) == ""
    (tmp_path / "4913").write_text("")
    assert "vim" in save_in_progress(tmp_path, now)
    (tmp_path / "4913").unlink()
    (tmp_path / "a.py~").write_text("old")
    assert "a.py is being saved" in save_in_progress(tmp_path, now)
    (tmp_path / "a.py").write_text("new")
    assert save_in_progress(tmp_path, now) == ""  # a backup kept next to its file
    (tmp_path / "a.py").unlink()
    assert save_in_progress(tmp_path, now + 60) == ""  # an old backup of a deleted file
    (tmp_path / "a.py~").unlink()
    (tmp_path / "1234").write_text("")  # digits, but not vim's probe
    (tmp_path / "b.py___jb_tmp___").write_text("")
    assert "b.py" in save_in_progress(tmp_path, now)
