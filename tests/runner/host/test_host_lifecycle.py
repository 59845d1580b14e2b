"""The host's life: two versions at once, restarts, stop, dying with its runner, migrate."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from runner.host.caller import HostCaller
from runner.host.client import StrategyHost
from runner.host.guard import HostLimits
from state_store.view import MarketView, View
from tests.runner.host.conftest import GOOD, outcomes, tree
from tests.runner.host.test_host_codec import ticks_of_a_busy_bot

V2 = GOOD.replace('"buy"', '"buy-v2"')


def gone(pid: int, within: float = 10.0) -> bool:
    """True once `pid` no longer runs (a zombie counts as gone); polls, bounded."""
    deadline = time.monotonic() + within
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def test_current_and_last_good_live_in_one_host(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    """A rollback is a different generation id in the next call: no reload, no restart."""
    v2 = host.load(tree(good=V2))
    assert v2.ok, v2.problems
    assert set(host.loaded) == {good, v2.generation}
    pid = host.live_pid
    new = outcomes(caller, v2.generation, "good")["good"]
    old = outcomes(caller, good, "good")["good"]
    assert {i.key for i in new.intents} == {"buy-v2"}
    assert {i.key for i in old.intents} == {"buy"}
    assert host.live_pid == pid
    host.unload(v2.generation)
    assert host.loaded == (good,)
    after = outcomes(caller, v2.generation, "good")["good"]
    assert after.failed and "not loaded" in after.error


def test_restart_reloads_every_generation_the_host_held(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    v2 = host.load(tree(good=V2))
    assert v2.ok, v2.problems
    pid = host.live_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # the host dies between ticks (OOM killer, a bug, ...)
    dead = outcomes(caller, good, "good")["good"]
    assert dead.failed
    assert [f.kind for f in caller.faults] == ["exited"]
    assert host.live_pid != pid
    for generation, key in ((good, "buy"), (v2.generation, "buy-v2")):
        result = outcomes(caller, generation, "good")["good"]
        for _ in range(20):  # "still starting" after a restart is shown, never blamed
            if not result.overrun:
                break
            result = outcomes(caller, generation, "good")["good"]
        assert not result.failed, result.error
        assert {i.key for i in result.intents} == {key}


def test_close_ends_every_host_process_at_once(host: StrategyHost, good: str) -> None:
    live = host.live_pid
    spare = host.spare_pid
    assert live is not None and spare is not None
    host.close()
    assert gone(live, within=0) and gone(spare, within=0)  # close() reaped them already


def test_hosts_die_with_their_runner(tmp_path: Path) -> None:
    """SIGKILL of the runner process leaves no host behind (PR_SET_PDEATHSIG)."""
    script = (
        "import sys, time\n"
        "from runner.host.client import StrategyHost\n"
        "from tests.runner.host.conftest import GOOD, tree\n"
        "host = StrategyHost(budget_s=1.0)\n"
        "assert host.load(tree(good=GOOD)).ok\n"
        "print(host.live_pid, host.spare_pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    root = Path(__file__).resolve().parents[3]
    runner = subprocess.Popen(
        [sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert runner.stdout is not None
        pids = [int(p) for p in runner.stdout.readline().split()]
        assert len(pids) == 2 and all(not gone(p, within=0) for p in pids)
    finally:
        runner.kill()
        runner.wait()
        if runner.stdout is not None:
            runner.stdout.close()
    assert all(gone(p) for p in pids)


def test_migrate_runs_in_the_host(host: StrategyHost) -> None:
    source = GOOD + (
        "\nMEMORY_VERSION = 2\n\n"
        "def migrate(memory, from_version):\n"
        "    return {'count': str(int(memory.get('n', '0')) + from_version)}\n"
    )
    loaded = host.load(tree(good=source))
    assert loaded.ok, loaded.problems
    info = loaded.strategies["good"]
    assert (info.memory_version, info.has_migrate, dict(info.params)) == (2, True, {"size": 5})
    assert host.migrate(loaded.generation, "good", {"n": "40"}, 1) == ({"count": "41"}, "")
    memory, error = host.migrate(loaded.generation, "good", {"n": "x"}, 1)
    assert memory is None and "ValueError" in error


def test_a_host_that_used_up_its_cpu_seconds_blames_nobody() -> None:
    """RLIMIT_CPU bounds a host's whole life (an orphan cannot spin forever); reaching it
    after many honest calls restarts the host without rolling anything back."""
    busy = "def decide(view):\n    for _ in range(3_000_000):\n        pass\n    return []\n"
    host = StrategyHost(budget_s=5.0, limits=HostLimits(cpu_seconds=2))
    caller = HostCaller(host)
    try:
        loaded = host.load(tree(busy=busy))
        assert loaded.ok, loaded.problems
        for _ in range(100):
            result = outcomes(caller, loaded.generation, "busy")["busy"]
            if caller.faults:
                break
        [fault] = caller.faults
        assert (fault.kind, fault.generation, fault.strategy) == ("exited", "", "")
        assert "SIGXCPU" in fault.detail and result.overrun  # shown, never blamed
        assert host.restarts == 1
    finally:
        host.close()


# remembers a digest of every market view it got, exactly as repr() shows them
DIGEST = """
import hashlib

from state_store.view import Remember


def decide(view):
    return [Remember({"views": hashlib.sha256(repr(view.markets).encode()).hexdigest()})]
"""


def digest_of(views: tuple[MarketView, ...]) -> str:
    return hashlib.sha256(repr(views).encode()).hexdigest()


def seen(caller: HostCaller, generation: str, views: tuple[MarketView, ...], tick: int) -> str:
    """The digest of the views the strategy saw in the host (waits out a restart)."""
    for _ in range(40):
        view = View("digest", views[0].now, tick, views, {}, {})
        (outcome,) = caller.call_all(generation, {"digest": view})
        if not outcome.overrun:
            assert not outcome.failed, outcome.error
            return outcome.remember["views"]
    raise AssertionError("the host never answered")


def test_views_in_the_host_equal_the_runners_across_deltas_restarts_and_resyncs(
    host: StrategyHost, caller: HostCaller, caplog: pytest.LogCaptureFixture
) -> None:
    loaded = host.load(tree(digest=DIGEST))
    assert loaded.ok, loaded.problems
    ticks = ticks_of_a_busy_bot()
    for tick, views in enumerate(ticks[:3], 1):  # a full frame, then deltas
        assert seen(caller, loaded.generation, views, tick) == digest_of(views)
    pid = host.live_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # the restarted host gets the markets in full
    assert seen(caller, loaded.generation, ticks[3], 4) == digest_of(ticks[3])
    assert host.live_pid != pid
    live = host._live  # the runner's idea of the frame the host holds, made wrong
    assert live is not None and live.frame is not None
    live.frame -= 1
    assert seen(caller, loaded.generation, ticks[4], 5) == digest_of(ticks[4])
    assert "sending the markets in full" in caplog.text  # the host asked for them
    assert seen(caller, loaded.generation, ticks[5], 6) == digest_of(ticks[5])
    assert host.live_pid != pid and caller.faults == []
