"""Hostile strategies against a real strategy host (issue 13, cases 1-3 and "Done when").

Each one must end as a rejected version (at load) or a failed, blamed call
(at decide), never as a dead or stalled caller; and a good generation in the
same host (or its restarted successor) keeps answering.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import runner.strategy_call
from runner.host.caller import HostCaller
from runner.host.client import StrategyHost
from tests.runner.host.conftest import GOOD, outcomes, tree

# Reaching the host's own modules without an import statement (the static check sees none).
SYS = '__import__("dataclasses").sys'


def assert_good_still_answers(caller: HostCaller, good: str) -> None:
    result = outcomes(caller, good, "good")["good"]
    assert not result.failed, result.error
    assert len(result.intents) == 3


def assert_rejected(
    host: StrategyHost, caller: HostCaller, good: str, source: str, why: str
) -> None:
    """Loading `source` next to GOOD is rejected with `why`; the live host is untouched."""
    pid = host.live_pid
    loaded = host.load(tree(good=GOOD, bad=source))
    assert not loaded.ok
    assert why in str(loaded.problems), loaded.problems
    assert host.live_pid == pid  # validation ran in another host; the live one never saw it
    assert host.loaded == (good,)
    assert_good_still_answers(caller, good)


# -- case 1: module-level code that kills or stalls -------------------------------------


def test_case1_exit_when_runner_is_loaded_is_rejected_statically(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    source = "import os, sys\nif 'runner.loop' in sys.modules:\n    os._exit(3)\n"
    source += "def decide(view):\n    return []\n"
    assert_rejected(host, caller, good, source, "import of 'os' is not allowed")


def test_case1_exit_reached_without_import_is_refused(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    source = f"{SYS}.modules['os']._exit(3)\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, source, "refused: os._exit")


def test_case1_crash_at_import_is_rejected(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    source = f"s = {SYS}.modules['signal']\ns.raise_signal(s.SIGSEGV)\n"
    source += "def decide(view):\n    return []\n"
    assert_rejected(host, caller, good, source, "killed by SIGSEGV")


def test_case1_sleep_at_import_is_rejected_statically(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    source = "import time\ntime.sleep(30)\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, source, "import of 'time' is not allowed")


def test_case1_spin_at_import_is_rejected_after_the_load_timeout(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    source = "while True:\n    pass\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, source, "import did not finish")


# -- case 2: a decide that never returns --------------------------------------------


SPIN = "def decide(view):\n    while True:\n        pass\n"


def test_case2_spinning_decide_is_rejected_by_the_dry_call(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    assert_rejected(host, caller, good, SPIN, "dry call: hung")


def test_case2_spin_that_waits_for_real_markets_is_killed_and_blamed(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    """Passes the dry call before any real tick, then hangs on a real view: the host is
    killed at the budget, the culprit named, and the next call works on a new host."""
    sneaky = "def decide(view):\n    while view.markets:\n        pass\n    return []\n"
    loaded = host.load(tree(good=GOOD, sneaky=sneaky))
    assert loaded.ok, loaded.problems
    pid = host.live_pid
    result = outcomes(caller, loaded.generation, "good", "sneaky")
    assert result["sneaky"].failed and "did not return" in result["sneaky"].error
    assert not result["sneaky"].overrun  # a hang is a failure, not "a loaded machine"
    [fault] = caller.faults
    assert (fault.kind, fault.generation, fault.strategy) == ("hung", loaded.generation, "sneaky")
    assert host.live_pid != pid and host.restarts == 1
    # the fixed version goes live at once: nothing of the old decide is still running
    fixed = host.load(tree(good=GOOD, sneaky="def decide(view):\n    return []\n"))
    assert fixed.ok, fixed.problems
    after = outcomes(caller, fixed.generation, "good", "sneaky")
    assert not after["good"].failed and not after["sneaky"].failed
    assert_good_still_answers(caller, good)


def test_case2_validation_on_real_markets_cannot_be_told_apart(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    """Once a real tick went through, the dry call uses its markets: the sneaky spin is
    caught before it ever goes live."""
    assert_good_still_answers(caller, good)
    sneaky = "def decide(view):\n    while view.markets:\n        pass\n    return []\n"
    assert_rejected(host, caller, good, sneaky, "dry call: hung")


# -- case 3 and "Done when": patching, files, sockets, threads, memory ---------------------


def test_case3_monkeypatching_the_runner_is_impossible(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    original = runner.strategy_call.check_intent
    static = "import runner.strategy_call\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, static, "import of 'runner.strategy_call' is not allowed")
    dynamic = (
        "def decide(view):\n"
        "    m = __import__('runner.strategy_call', fromlist=['x'])\n"
        "    m.check_intent = lambda *a: None\n"
        "    return []\n"
    )
    assert_rejected(host, caller, good, dynamic, "dry call")  # not even in the dry call
    # what a patch could never change: the runner checks what comes back, in its own process
    off_grid = (
        "from decimal import Decimal\nfrom state_store.models import Intent\n"
        "def decide(view):\n"
        f"    m = {SYS}.modules.get('runner.strategy_call')\n"
        "    if m is not None:\n        m.check_intent = lambda *a: None\n"
        "    return [Intent('k', x.market, 'Up', 'BUY', Decimal('0.333'), Decimal(5), 'GTC')\n"
        "            for x in view.markets]\n"
    )
    loaded = host.load(tree(good=GOOD, patcher=off_grid))
    assert loaded.ok, loaded.problems
    result = outcomes(caller, loaded.generation, "patcher")["patcher"]
    assert result.failed and "off tick" in result.error
    assert runner.strategy_call.check_intent is original


def test_case3_dynamic_import_of_the_runner_fails_in_decide(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    source = (
        "def decide(view):\n"
        "    if view.markets:\n"
        "        __import__('runner.strategy_call')\n"
        "    return []\n"
    )
    loaded = host.load(tree(good=GOOD, importer=source))
    assert loaded.ok, loaded.problems
    result = outcomes(caller, loaded.generation, "importer")["importer"]
    assert result.failed and "refused: import 'runner.strategy_call'" in result.error
    assert [f.kind for f in caller.faults] == ["refused"]


@pytest.mark.parametrize("catch", [False, True], ids=["raises", "catches-the-refusal"])
def test_case3_file_write_is_refused_and_reported(
    host: StrategyHost, caller: HostCaller, good: str, tmp_path: Path, catch: bool
) -> None:
    target = tmp_path / "written.txt"
    write = f"open({str(target)!r}, 'w').write('x')"
    body = (
        f"    try:\n        {write}\n    except OSError:\n        pass\n"
        if catch
        else f"    {write}\n"
    )
    source = (
        "def decide(view):\n    if view.markets:\n" + "    " + body.replace("\n    ", "\n        ")
    )
    source += "    return []\n"
    loaded = host.load(tree(good=GOOD, writer=source))
    assert loaded.ok, loaded.problems
    result = outcomes(caller, loaded.generation, "writer", "good")
    assert result["writer"].failed and "refused: open" in result["writer"].error
    assert not result["good"].failed
    assert [f.kind for f in caller.faults] == ["refused"]
    assert not target.exists()


def test_case3_file_write_at_import_is_rejected(
    host: StrategyHost, caller: HostCaller, good: str, tmp_path: Path
) -> None:
    target = tmp_path / "written.txt"
    source = f"open({str(target)!r}, 'w')\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, source, "refused: open")
    assert not target.exists()


def test_case3_socket_is_refused(host: StrategyHost, caller: HostCaller, good: str) -> None:
    static = "import socket\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, static, "import of 'socket' is not allowed")
    via_importlib = (
        "def decide(view):\n"
        f"    s = {SYS}.modules['importlib'].import_module('socket')\n"
        "    s.create_connection(('127.0.0.1', 9))\n"
        "    return []\n"
    )
    # importlib's own path raises no "import" event, but the module's file cannot be opened
    assert_rejected(host, caller, good, via_importlib, "refused: open")


def test_case3_thread_start_is_refused(host: StrategyHost, caller: HostCaller, good: str) -> None:
    static = "import threading\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, static, "import of 'threading' is not allowed")
    for module, start in (
        ("threading", "Thread(target=lambda: None).start()"),
        ("_thread", "start_new_thread(lambda: None, ())"),
    ):
        source = f"def decide(view):\n    {SYS}.modules[{module!r}].{start}\n    return []\n"
        assert_rejected(host, caller, good, source, "refused: _thread.start_new_thread")


def test_case3_allocation_beyond_the_limit_fails_and_the_host_survives(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    at_import = "BIG = bytes(4 * 1024 ** 3)\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, at_import, "MemoryError")
    source = (
        "def decide(view):\n    if view.markets:\n        bytearray(4 * 1024 ** 3)\n    return []\n"
    )
    loaded = host.load(tree(good=GOOD, hog=source))
    assert loaded.ok, loaded.problems
    pid = host.live_pid
    result = outcomes(caller, loaded.generation, "hog", "good")
    assert result["hog"].failed and "MemoryError" in result["hog"].error
    assert not result["good"].failed
    assert host.live_pid == pid  # contained inside the host: no restart needed
    assert_good_still_answers(caller, good)


def test_case3_growing_without_bound_is_stopped(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    """An allocation loop ends in MemoryError (RLIMIT_AS) or at the budget: failed either way."""
    source = (
        "def decide(view):\n"
        "    hoard = []\n"
        "    while view.markets:\n"
        "        hoard.append(bytearray(1 << 20))\n"
        "    return []\n"
    )
    loaded = host.load(tree(good=GOOD, hoarder=source))
    assert loaded.ok, loaded.problems
    result = outcomes(caller, loaded.generation, "hoarder")["hoarder"]
    assert result.failed and ("MemoryError" in result.error or "did not return" in result.error)
    assert_good_still_answers(caller, good)


def test_decide_exit_kills_only_the_host_and_is_blamed(
    host: StrategyHost, caller: HostCaller, good: str
) -> None:
    source = (
        "def decide(view):\n"
        "    if view.markets:\n"
        f"        s = {SYS}.modules['signal']\n"
        "        s.raise_signal(s.SIGKILL)\n"
        "    return []\n"
    )
    loaded = host.load(tree(good=GOOD, killer=source))
    assert loaded.ok, loaded.problems
    result = outcomes(caller, loaded.generation, "good", "killer")
    assert "killed by SIGKILL" in result["killer"].error and not result["killer"].overrun
    assert result["good"].overrun  # its result was lost with the host: shown, not blamed
    [fault] = caller.faults
    assert (fault.kind, fault.strategy) == ("exited", "killer")
    assert host.restarts == 1
    assert_good_still_answers(caller, good)


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        (f"{SYS}.modules['os'].system('true')", "refused: os.system"),
        (f"{SYS}.modules['os'].kill(1, 0)", "refused: os.kill"),
        (f"{SYS}.modules['os'].remove('/nonexistent')", "refused: os.remove"),
        (f"{SYS}.modules['threading'].Thread(target=print).start()", "refused: _thread"),
        (f"{SYS}.modules['importlib'].import_module('subprocess')", "refused: open"),
        (f"{SYS}.modules['importlib'].import_module('gc').get_objects()", "refused: gc.get_obj"),
        (f"{SYS}.settrace(print)", "refused: sys.settrace"),
        ("open('/etc/hostname')", "refused: open"),
    ],
    ids=["os.system", "os.kill", "os.remove", "thread", "subprocess", "gc", "settrace", "read"],
)
def test_module_level_escapes_are_refused(
    host: StrategyHost, caller: HostCaller, good: str, statement: str, why: str
) -> None:
    source = f"{statement}\ndef decide(view):\n    return []\n"
    assert_rejected(host, caller, good, source, why)
