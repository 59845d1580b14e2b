"""Following a watcher: adopt a published generation when the folder hashes the same,
never validate it a second time, report a folder that differs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner.reload import MemoryQuarantine, Published, Reloader, read_tree
from tests.runner.reload.helpers import GOOD, Driver, write

MakeReloader = Callable[..., Reloader]


def returning(value: str) -> str:
    return f"def decide(view):\n    return [{value!r}]\n"


def published(directory: Path, seq: int = 1, sha: str = "c0ffee" * 6 + "abcd") -> Published:
    tree = read_tree(directory)
    names = tuple(f.module for f in tree.files if not f.module.startswith("_"))
    return Published(tree.generation, seq, dict(tree.hashes), sha, False, names)


@pytest.fixture
def no_validation(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail the test if the reloader validates a tree in a child (the watcher did that)."""
    calls: list[Any] = []

    def forbidden(tree: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(tree.generation)
        raise AssertionError("a following runner must not validate again")

    monkeypatch.setattr("runner.reload.builder.validate_tree", forbidden)
    return calls


def test_a_published_generation_matching_the_folder_goes_live_without_validation(
    make_reloader: MakeReloader, strat_dir: Path, no_validation: list[Any]
) -> None:
    write(strat_dir, "a.py", GOOD)
    v1 = published(strat_dir)
    reloader = make_reloader()
    reloader.follow(v1)
    events = reloader.load_initial()

    assert [e.kind for e in events] == ["live", "promoted"]
    assert reloader.current is not None and reloader.current.generation == v1.generation
    assert reloader.current.git_sha == v1.git_sha  # the watcher's checkout, same bytes

    write(strat_dir, "a.py", returning("v2"))
    v2 = published(strat_dir, seq=2)
    reloader.follow(v2)
    driver = Driver(reloader)
    live = driver.until_event("live")
    driver.step()

    assert live.generation == v2.generation and reloader.on_probation
    assert driver.results[-1] == {"a": ["v2"]}
    assert no_validation == []


def test_a_change_not_yet_published_is_not_loaded(
    make_reloader: MakeReloader, strat_dir: Path, no_validation: list[Any]
) -> None:
    write(strat_dir, "a.py", GOOD)
    reloader = make_reloader(mismatch_grace_seconds=0.2)
    reloader.follow(published(strat_dir))
    reloader.load_initial()
    driver = Driver(reloader)

    write(strat_dir, "a.py", returning("local edit"))
    mismatch = driver.until_event("mismatch")

    assert "a.py (here " in mismatch.error and "not loaded" in mismatch.error
    assert mismatch.generation == read_tree(strat_dir).generation
    driver.step()
    assert driver.results[-1] == {"a": ["v1"]}

    reloader.follow(published(strat_dir, seq=2))  # the watcher catches up
    driver.until_event("live")
    driver.step()
    assert driver.results[-1] == {"a": ["local edit"]}
    assert no_validation == []


def test_another_hosts_checkout_reports_the_differing_files_once(
    make_reloader: MakeReloader, strat_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other-host"
    other.mkdir()
    write(other, "a.py", returning("theirs"))
    write(other, "b.py", GOOD)
    write(strat_dir, "a.py", GOOD)
    reloader = make_reloader(mismatch_grace_seconds=0.1)
    theirs = published(other)
    reloader.follow(theirs)
    events = reloader.load_initial()  # validates its own folder: it must run something
    assert [e.kind for e in events] == ["live", "promoted"]

    driver = Driver(reloader)
    mismatch = driver.until_event("mismatch")
    attempts = reloader.attempts
    driver.until(lambda: reloader.attempts > attempts + 1 or driver.tick > 200)

    assert driver.kinds().count("mismatch") == 1
    assert "b.py (missing here)" in mismatch.error and theirs.generation in mismatch.error
    assert reloader.current is not None and reloader.current.generation != theirs.generation


def test_a_published_generation_failing_probation_rolls_back_and_stays_out(
    make_reloader: MakeReloader, strat_dir: Path, no_validation: list[Any]
) -> None:
    write(strat_dir, "a.py", GOOD)
    quarantine = MemoryQuarantine()
    reloader = make_reloader(quarantine=quarantine, probation_ticks=3)
    reloader.follow(published(strat_dir))
    reloader.load_initial()
    v1 = reloader.current
    driver = Driver(reloader)

    write(strat_dir, "a.py", "def decide(view):\n    raise RuntimeError('boom')\n")
    bad = published(strat_dir, seq=2)
    reloader.follow(bad)
    driver.until_event("rolled_back")
    reloader.request_reload()  # e.g. ctl reload: still quarantined
    rejected = driver.until_event("rejected")

    assert quarantine.contains(bad.generation) and reloader.current is v1
    assert "quarantined" in rejected.error
    assert no_validation == []


def test_a_selected_strategy_missing_from_the_published_tree_is_rejected(
    make_reloader: MakeReloader, strat_dir: Path
) -> None:
    write(strat_dir, "a.py", GOOD)
    write(strat_dir, "b.py", GOOD)
    reloader = make_reloader(only=["b"])
    reloader.load_initial()
    driver = Driver(reloader)
    driver.until(lambda: reloader.attempts >= 1)  # the thread's first pass is over

    (strat_dir / "b.py").unlink()
    reloader.follow(published(strat_dir))
    rejected = driver.until_event("rejected")

    assert "selected strategies not in published generation" in rejected.error
    assert reloader.current is not None and list(reloader.current.strategies) == ["b"]


def test_without_a_watcher_again_the_reloader_validates_by_itself(
    make_reloader: MakeReloader, strat_dir: Path
) -> None:
    write(strat_dir, "a.py", GOOD)
    reloader = make_reloader()
    reloader.follow(published(strat_dir))
    reloader.load_initial()
    driver = Driver(reloader)

    reloader.follow(None)
    write(strat_dir, "a.py", returning("v2"))
    driver.until_event("live")
    driver.step()

    assert reloader.following is None
    assert driver.results[-1] == {"a": ["v2"]}


def test_the_boundary_after_follow_waits_briefly_for_the_adoption(
    make_reloader: MakeReloader, strat_dir: Path
) -> None:
    write(strat_dir, "a.py", GOOD)
    reloader = make_reloader(adopt_wait_seconds=30.0)  # generous: only the logic is tested
    reloader.follow(published(strat_dir))
    reloader.load_initial()
    driver = Driver(reloader)
    driver.until(lambda: reloader.attempts >= 1)

    write(strat_dir, "a.py", returning("v2"))
    reloader.follow(published(strat_dir, seq=2))
    events = driver.step()  # the very next tick runs the new generation

    assert [e.kind for e in events] == ["live"]
    assert driver.results[-1] == {"a": ["v2"]}
