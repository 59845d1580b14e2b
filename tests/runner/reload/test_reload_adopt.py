"""Adopting a published generation when the folder hashes the same, never validating it
a second time; reporting a folder that differs, or the tree the publisher rejected."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.reload import MemoryQuarantine, Published, Rejected, Reloader, read_tree
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
    """Fail the test if the reloader validates a tree in a child (the publisher did that)."""
    calls: list[Any] = []

    def forbidden(self: Any, tree: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(tree.generation)
        raise AssertionError("a runner must not validate again")

    monkeypatch.setattr("runner.reload.isolation.Isolation.run", forbidden)
    return calls


@pytest.fixture
def make_reloader(strat_dir: Path) -> Iterator[Callable[..., Reloader]]:
    made: list[Reloader] = []

    def factory(**kwargs: Any) -> Reloader:
        kwargs.setdefault("probation_ticks", 3)
        reloader = Reloader(strat_dir, **kwargs)
        made.append(reloader)
        return reloader

    yield factory
    for reloader in made:
        reloader.close()


def test_a_published_generation_matching_the_folder_goes_live_without_validation(
    make_reloader: MakeReloader, strat_dir: Path, no_validation: list[Any]
) -> None:
    write(strat_dir, "a.py", GOOD)
    v1 = published(strat_dir)
    reloader = make_reloader()
    reloader.adopt(v1)
    events = reloader.at_tick_boundary(None)

    assert [e.kind for e in events] == ["live", "promoted"]
    assert reloader.current is not None and reloader.current.generation == v1.generation
    assert reloader.current.git_sha == v1.git_sha  # the watcher's checkout, same bytes

    write(strat_dir, "a.py", returning("v2"))
    v2 = published(strat_dir, seq=2)
    reloader.adopt(v2)
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
    reloader.adopt(published(strat_dir))
    reloader.at_tick_boundary(None)
    driver = Driver(reloader)

    write(strat_dir, "a.py", returning("local edit"))
    mismatch = driver.until_event("mismatch")

    assert "a.py (here " in mismatch.error and "not loaded" in mismatch.error
    assert mismatch.generation == read_tree(strat_dir).generation
    driver.step()
    assert driver.results[-1] == {"a": ["v1"]}

    reloader.adopt(published(strat_dir, seq=2))  # the watcher catches up
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
    reloader.adopt(theirs)
    assert reloader.at_tick_boundary(None) == []  # within the grace: maybe not published yet

    driver = Driver(reloader)
    mismatch = driver.until_event("mismatch")
    driver.until(lambda: driver.tick > 200)

    assert driver.kinds() == ["mismatch"]  # once
    assert "b.py (missing here)" in mismatch.error and theirs.generation in mismatch.error
    assert reloader.current is None  # only a published generation ever runs


def test_a_published_generation_failing_probation_rolls_back_and_stays_out(
    make_reloader: MakeReloader, strat_dir: Path, no_validation: list[Any]
) -> None:
    write(strat_dir, "a.py", GOOD)
    quarantine = MemoryQuarantine()
    reloader = make_reloader(quarantine=quarantine, probation_ticks=3)
    reloader.adopt(published(strat_dir))
    reloader.at_tick_boundary(None)
    v1 = reloader.current
    driver = Driver(reloader)

    write(strat_dir, "a.py", "def decide(view):\n    raise RuntimeError('boom')\n")
    bad = published(strat_dir, seq=2)
    reloader.adopt(bad)
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
    reloader.adopt(published(strat_dir))
    reloader.at_tick_boundary(None)
    driver = Driver(reloader)

    (strat_dir / "b.py").unlink()
    reloader.adopt(published(strat_dir, seq=2))
    rejected = driver.until_event("rejected")

    assert "selected strategies not in published generation" in rejected.error
    assert reloader.current is not None and list(reloader.current.strategies) == ["b"]


def test_the_tree_the_publisher_rejected_is_reported_as_rejected_then_restored(
    make_reloader: MakeReloader, strat_dir: Path, no_validation: list[Any]
) -> None:
    """issue 12 point 2: a typo is a rejection with the publisher's error, not a mismatch
    ("check out the same commit"), and restoring the file ends the failure."""
    write(strat_dir, "a.py", GOOD)
    reloader = make_reloader(mismatch_grace_seconds=0.0)
    v1 = published(strat_dir)
    reloader.adopt(v1)
    reloader.at_tick_boundary(None)
    driver = Driver(reloader)

    write(strat_dir, "a.py", GOOD + "def broken(:\n")
    error = "a.py:3: SyntaxError: invalid syntax"
    reloader.adopt(v1, Rejected(read_tree(strat_dir).generation, error))
    rejected = driver.until_event("rejected")
    driver.until(lambda: driver.tick > 20)

    assert rejected.error == error and not rejected.ok
    assert driver.kinds() == ["rejected"]  # once, and never "mismatch"
    assert driver.results[-1] == {"a": ["v1"]}

    write(strat_dir, "a.py", GOOD)  # restored: the published generation again
    restored = driver.until_event("restored")
    driver.until(lambda: driver.tick > 40)

    assert restored.ok and restored.generation == v1.generation
    assert driver.kinds() == ["rejected", "restored"]
    assert reloader.current is not None and reloader.current.generation == v1.generation


def test_the_next_boundary_after_a_publish_runs_the_new_generation(
    make_reloader: MakeReloader, strat_dir: Path
) -> None:
    write(strat_dir, "a.py", GOOD)
    reloader = make_reloader()
    reloader.adopt(published(strat_dir))
    reloader.at_tick_boundary(None)
    driver = Driver(reloader)

    write(strat_dir, "a.py", returning("v2"))
    reloader.adopt(published(strat_dir, seq=2))
    events = driver.step()  # the very next tick runs the new generation

    assert [e.kind for e in events] == ["live"]
    assert driver.results[-1] == {"a": ["v2"]}
