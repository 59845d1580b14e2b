"""A runner's in-process publisher validates in candidates of the runner's own host, and
the runner adopts the candidate that passed: one host load per change, not two."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from runner.host.caller import HostCaller
from runner.host.client import Prepared, StrategyHost
from runner.host.loading import AdoptingValidator, HostLoader
from runner.reload.model import CodeVersion
from runner.reload.tree import Tree
from runner.reload.validate import validate_tree
from tests.runner.host.conftest import GOOD, LOAD_TIMEOUT_S, outcomes, tree
from tests.runner.host.test_host_lifecycle import gone

V2 = GOOD.replace('"buy"', '"buy-v2"')
V3 = GOOD.replace('"buy"', '"buy-v3"')


def live(loader: HostLoader, t: Tree, keep: Sequence[str]) -> CodeVersion:
    """What the reloader does: ask at every tick until the generation is live (bounded)."""
    deadline = time.monotonic() + 4 * LOAD_TIMEOUT_S
    while (version := loader.load(t, git_sha="", git_dirty=False, keep=keep)) is None:
        assert time.monotonic() < deadline, "the generation never went live"
        time.sleep(0.01)
    return version


@pytest.fixture
def loader(host: StrategyHost) -> HostLoader:
    return HostLoader(host)


@pytest.fixture
def prepared_pids(host: StrategyHost, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """generation -> pids of the candidate hosts prepared for it (validated or not)."""
    pids: dict[str, list[int]] = {}
    prepare = host.prepare

    def spy(t: Tree, keep: Sequence[str] = ()) -> Prepared:
        prepared = prepare(t, keep)
        if prepared.live is not None:
            pids.setdefault(t.generation, []).append(prepared.live.process.pid)
        return prepared

    monkeypatch.setattr(host, "prepare", spy)
    return pids


def test_the_validated_candidate_goes_live_without_a_second_load(
    host: StrategyHost, loader: HostLoader, prepared_pids: dict[str, list[int]]
) -> None:
    v1 = live(loader, tree(good=GOOD), keep=())
    v2 = tree(good=V2)
    assert validate_tree(v2, host=AdoptingValidator(loader)).ok
    version = loader.load(v2, git_sha="", git_dirty=False, keep=[v1.generation])
    assert version is not None  # ready at the first tick that asks: nothing left to load
    assert prepared_pids[v2.generation] == [host.live_pid]  # the validated process is live
    assert loader.prepares == 1  # v1's only: v2 was loaded once, by the validation
    assert set(host.loaded) == {v1.generation, v2.generation}  # last-good kept warm
    caller = HostCaller(host)
    assert {i.key for i in outcomes(caller, v2.generation, "good")["good"].intents} == {"buy-v2"}
    assert {i.key for i in outcomes(caller, v1.generation, "good")["good"].intents} == {"buy"}


def test_a_tree_that_fails_validation_never_reaches_the_loader(
    host: StrategyHost, loader: HostLoader, prepared_pids: dict[str, list[int]]
) -> None:
    v1 = live(loader, tree(good=GOOD), keep=())
    pid = host.live_pid
    bad = tree(good=GOOD + "\nPARAMS = {'size': 5}\nassert PARAMS['size'] > 5, 'too small'\n")
    result = validate_tree(bad, host=AdoptingValidator(loader))
    assert not result.ok and "too small" in result.error
    assert host.live_pid == pid and host.loaded == (v1.generation,)
    assert prepared_pids.get(bad.generation, []) == []  # its candidate was killed, not kept


def test_a_candidate_keeps_only_what_the_runner_still_holds(
    host: StrategyHost, loader: HostLoader
) -> None:
    """Validated beside current and last-good; the current one was rolled back meanwhile:
    the adopted host forgets it."""
    v1 = live(loader, tree(good=GOOD), keep=())
    v2 = live(loader, tree(good=V2), keep=[v1.generation])
    assert set(host.loaded) == {v1.generation, v2.generation}
    v3 = tree(good=V3)
    assert validate_tree(v3, host=AdoptingValidator(loader)).ok
    live(loader, v3, keep=[v1.generation])  # v2 failed probation before v3 went live
    assert set(host.loaded) == {v1.generation, v3.generation}


def test_a_candidate_validated_beside_fewer_generations_is_prepared_again(
    host: StrategyHost, loader: HostLoader, prepared_pids: dict[str, list[int]]
) -> None:
    v1 = live(loader, tree(good=GOOD), keep=())
    v3 = tree(good=V3)
    assert validate_tree(v3, host=AdoptingValidator(loader)).ok  # beside v1 only
    v2 = host.load(tree(good=V2))  # the runner took v2 after that validation
    assert v2.ok, v2.problems
    version = live(loader, v3, keep=[v1.generation, v2.generation])
    assert version.generation == v3.generation
    validated, again = prepared_pids[v3.generation]
    assert host.live_pid == again and gone(validated)
    assert set(host.loaded) == {v1.generation, v2.generation, v3.generation}


def test_once_the_runner_host_is_closed_trees_are_judged_in_a_host_of_its_own(
    host: StrategyHost, loader: HostLoader
) -> None:
    """The runner's loop ended but its publisher still runs: no tree is rejected for it."""
    validator = AdoptingValidator(loader)
    live(loader, tree(good=GOOD), keep=())
    host.close()
    try:
        assert validate_tree(tree(good=V2), host=validator).ok
        bad = validate_tree(
            tree(good=GOOD + "\nraise ValueError('bad at import')\n"), host=validator
        )
        assert not bad.ok and "bad at import" in bad.error
    finally:
        validator.close()
