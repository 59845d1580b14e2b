"""One reload path end to end: a strategies folder in tmp_path, the publisher on a thread
(validates and publishes), a runner's Reloader adopting what it publishes, ticks driven
by hand."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner.reload import MemoryQuarantine
from runner.reload.tree import read_tree
from tests.runner.reload.helpers import GOOD, Bot, Driver, wait_for, write

MakeBot = Callable[..., Bot]


def returning(value: str) -> str:
    return f"def decide(view):\n    return [{value!r}]\n"


def started(make_bot: MakeBot, strat_dir: Path, **kwargs: object) -> Driver:
    """v1 live (a.py returning ["v1"]) and, as the first version, last-good at once."""
    write(strat_dir, "a.py", GOOD)
    bot = make_bot(**kwargs)
    reloader = bot.reloader
    events = bot.load_initial()
    assert [(e.kind, e.tick, e.ok) for e in events] == [
        ("live", None, True),
        ("promoted", None, True),
    ]
    assert reloader.last_good is reloader.current and not reloader.on_probation
    return bot.driver()


def test_initial_load(make_bot: MakeBot, strat_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(strat_dir, "_common.py", "VALUE = 'v1'\n")
    write(
        strat_dir, "a.py", "from . import _common\ndef decide(view):\n    return [_common.VALUE]\n"
    )
    caplog.set_level(logging.INFO, logger="runner.reload.reloader")
    bot = make_bot()
    reloader = bot.reloader
    event, promoted = bot.load_initial()

    code = reloader.current
    assert code is not None and reloader.last_good is code and not reloader.on_probation
    assert event.kind == "live" and event.generation == code.generation
    assert promoted.kind == "promoted" and promoted.generation == code.generation
    assert code.generation == read_tree(strat_dir).generation
    assert (code.modules, list(code.strategies)) == (("_common", "a"), ["a"])
    assert dict(event.files) == dict(code.files) == dict(read_tree(strat_dir).hashes)
    assert (code.git_sha, code.git_dirty) == ("", False)  # tmp_path is not a checkout
    # issue 12 point 9: the log says when it went live, truthfully
    assert f"generation {code.generation} live before the first tick" in caplog.text
    assert "tick None" not in caplog.text


BAD_CHANGES = {
    "syntax error": ("def decide(view)\n    return []\n", "a.py:1: SyntaxError"),
    "import error": ("import nb_missing_xyz\n" + GOOD, "a.py:1: import of 'nb_missing_xyz' is"),
    "import error at run time": (
        "__import__('nb_' + 'missing')\n" + GOOD,
        "a.py:1: import failed: ImportError",
    ),
    "hanging import": ("while True:\n    pass\n" + GOOD, "did not finish within 1 s"),
    "os._exit": ("import os\nos._exit(3)\n" + GOOD, "a.py:1: import of 'os' is not allowed"),
    "sleep at import": ("import time\ntime.sleep(30)\n" + GOOD, "import of 'time' is not"),
    "missing decide": ("def decid(view):\n    return []\n", "a.py: no longer defines decide"),
    "CACHE = {}": ("CACHE = {}\n" + GOOD, "a.py:1: module-level CACHE holds a dict"),
    "seen = []": (GOOD + "seen = []\n", "a.py:3: module-level seen holds a list"),
    "global": ("n = 0\ndef decide(view):\n    global n\n    return []\n", "a.py:3: `global n`"),
}


@pytest.mark.parametrize("case", BAD_CHANGES, ids=str)
def test_a_bad_change_never_goes_live(make_bot: MakeBot, strat_dir: Path, case: str) -> None:
    source, reason = BAD_CHANGES[case]
    driver = started(make_bot, strat_dir, validate_timeout=1.0)
    v1 = driver.reloader.current
    assert v1 is not None
    ticks_before = driver.tick

    write(strat_dir, "a.py", source)
    rejected = driver.until_event("rejected")

    assert reason in rejected.error, rejected.error
    assert rejected.generation == read_tree(strat_dir).generation != v1.generation
    assert not rejected.ok and rejected.files["a.py"] == read_tree(strat_dir).hashes["a.py"]
    assert driver.reloader.current is v1 and "live" not in driver.kinds()[1:]
    assert driver.results[-1] == {"a": ["v1"]}  # the old version keeps serving
    assert driver.tick > ticks_before + 1  # ticks kept running while validation ran
    seen_at = driver.tick
    driver.until(lambda: driver.tick >= seen_at + 20)
    assert driver.kinds().count("rejected") == 1  # reported once, not every tick


def test_a_rejected_tree_loads_once_fixed(make_bot: MakeBot, strat_dir: Path) -> None:
    driver = started(make_bot, strat_dir)
    write(strat_dir, "a.py", "CACHE = {}\n" + GOOD)
    driver.until_event("rejected")
    write(strat_dir, "a.py", returning("fixed"))
    driver.until_event("live")
    driver.step()
    assert driver.results[-1] == {"a": ["fixed"]}


def test_a_half_written_file_held_open_is_never_loaded(make_bot: MakeBot, strat_dir: Path) -> None:
    if sys.platform != "linux":
        pytest.skip("needs /proc")
    driver = started(make_bot, strat_dir)
    assert driver.bot is not None
    bot_manifest = driver.bot.manifest
    v1 = driver.reloader.current
    path = strat_dir / "a.py"
    with open(path, "w") as writer:
        writer.write(returning("half"))  # valid Python on its own: only the open fd tells
        writer.flush()
        driver.until(lambda: bot_manifest("held"))
        [held] = bot_manifest("held")
        assert "a.py" in held.error and f"pid {os.getpid()}" in held.error
        time.sleep(0.2)  # 10 quiet windows: still open, still not published nor loaded
        driver.until(lambda: driver.tick >= 30)
        assert driver.reloader.current is v1 and driver.results[-1] == {"a": ["v1"]}
        assert len(bot_manifest("held")) == 1  # reported once
        half = read_tree(strat_dir).generation
        writer.write(returning("full"))
    driver.until_event("live")
    driver.step()
    assert driver.results[-1] == {"a": ["full"]}
    assert all(e.generation != half for e in driver.events if e.kind == "live")


def test_the_portable_path_without_proc(
    make_bot: MakeBot, strat_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_proc(*_: object, **__: object) -> object:
        raise AssertionError("the portable path must not scan /proc")

    monkeypatch.setattr("runner.publish.gate.find_writers", no_proc)
    driver = started(make_bot, strat_dir, detect_writers=False)
    write(strat_dir, "a.py", returning("v2"))
    driver.until_event("live")
    driver.step()
    assert driver.results[-1] == {"a": ["v2"]}


def test_a_helper_change_reloads_every_importer_in_one_generation(
    make_bot: MakeBot, strat_dir: Path
) -> None:
    write(strat_dir, "_common.py", "VALUE = 1\n")
    write(strat_dir, "_twice.py", "from ._common import VALUE\nTWICE = VALUE * 2\n")
    write(strat_dir, "a.py", "from . import _common\ndef decide(view):\n    return _common.VALUE\n")
    write(strat_dir, "b.py", "from ._common import VALUE\ndef decide(view):\n    return VALUE\n")
    write(
        strat_dir, "c.py", "from ._twice import TWICE\ndef decide(view):\n    return TWICE // 2\n"
    )
    bot = make_bot()
    bot.load_initial()
    driver = bot.driver()
    driver.step()
    assert driver.results[-1] == {"a": 1, "b": 1, "c": 1}

    write(strat_dir, "_common.py", "VALUE = 2\n")
    live = driver.until_event("live")
    driver.step()

    assert driver.results[-1] == {"a": 2, "b": 2, "c": 2}
    assert all(len(set(tick.values())) == 1 for tick in driver.results)  # never mixed
    assert live.modules == ("_common", "_twice", "a", "b", "c")
    assert driver.kinds().count("live") == 1


def test_probation_failure_rolls_back_and_quarantines(make_bot: MakeBot, strat_dir: Path) -> None:
    quarantine = MemoryQuarantine()
    driver = started(make_bot, strat_dir, quarantine=quarantine, probation_ticks=5)
    reloader = driver.reloader
    v1 = reloader.current
    assert v1 is not None and reloader.last_good is v1

    bad = "def decide(view):\n    raise RuntimeError('boom')\n"
    mark = len(driver.events)
    write(strat_dir, "a.py", bad)
    live = driver.until_event("live", since=mark)
    rolled = driver.until_event("rolled_back", since=mark)

    assert rolled.generation == live.generation and rolled.tick == live.tick
    assert (
        "a: RuntimeError: boom" in rolled.error
        and f"rolled back to {v1.generation}" in rolled.error
    )
    assert reloader.current is v1 and not reloader.on_probation
    assert quarantine.contains(live.generation)
    assert "boom" in quarantine.reason(live.generation)
    assert not any(k.startswith(f"_nbgen_{live.generation}") for k in sys.modules)
    driver.step()
    assert driver.results[-1] == {"a": ["v1"]}

    # the same bytes again: not re-validated, not loaded, not re-reported
    time.sleep(0.05)
    attempts = reloader.attempts
    write(strat_dir, "a.py", bad)
    driver.until(lambda: reloader.attempts > attempts)
    driver.until(lambda: driver.tick >= live.tick + 30)  # type: ignore[operator]
    assert driver.kinds()[-2:] == ["live", "rolled_back"]
    assert reloader.current is v1

    # a change makes a new generation, free to try again
    write(strat_dir, "a.py", returning("v3"))
    driver.until_event("live")
    driver.step()
    assert driver.results[-1] == {"a": ["v3"]}


def test_surviving_probation_promotes_to_last_good(make_bot: MakeBot, strat_dir: Path) -> None:
    driver = started(make_bot, strat_dir, probation_ticks=4)
    reloader = driver.reloader
    v1 = reloader.current
    assert v1 is not None

    write(strat_dir, "a.py", returning("v2"))
    live = driver.until_event("live")
    assert reloader.on_probation and reloader.last_good is v1
    assert v1.package in sys.modules  # last-good stays loaded while v2 is on probation
    promoted = driver.until_event("promoted")

    assert promoted.generation == live.generation
    assert promoted.tick == live.tick + 3  # type: ignore[operator]
    assert reloader.last_good is reloader.current and not reloader.on_probation
    assert v1.package not in sys.modules  # neither current nor last-good: unloaded


def test_reverting_to_last_good_during_probation_needs_no_new_probation(
    make_bot: MakeBot, strat_dir: Path
) -> None:
    driver = started(make_bot, strat_dir)
    v1 = driver.reloader.current
    assert v1 is not None
    driver.reloader.probation_ticks = 1_000_000  # v2 stays on probation
    write(strat_dir, "a.py", returning("v2"))
    driver.until_event("live")
    assert driver.reloader.on_probation
    write(strat_dir, "a.py", GOOD)
    back = driver.until_event("live")
    assert back.generation == v1.generation
    assert driver.reloader.current is v1 and not driver.reloader.on_probation


def test_the_first_version_has_no_fallback_so_it_is_not_on_probation(
    make_bot: MakeBot, strat_dir: Path
) -> None:
    """Rolling back to nothing would stop every strategy: the runner contains its errors."""
    write(strat_dir, "a.py", "def decide(view):\n    raise ValueError('bad start')\n")
    bot = make_bot()
    reloader = bot.reloader
    bot.load_initial()
    driver = bot.driver()
    for _ in range(10):
        driver.step()
    assert driver.kinds() == [] and reloader.current is reloader.last_good is not None
    write(strat_dir, "a.py", GOOD)  # the next version is on probation, with a fallback
    driver.until_event("promoted")
    assert driver.results[-1] == {"a": ["v1"]}


def test_a_restarted_runner_does_not_load_a_quarantined_tree(
    make_bot: MakeBot, strat_dir: Path
) -> None:
    quarantine = MemoryQuarantine()
    write(strat_dir, "a.py", GOOD)
    quarantine.add(read_tree(strat_dir).generation, "failed probation on another replica")
    bot = make_bot(quarantine=quarantine)
    reloader = bot.reloader
    [event] = bot.load_initial()
    assert event.kind == "rejected" and "quarantined" in event.error
    assert reloader.current is None
    driver = bot.driver()
    reloader.request_reload()  # an operator's `ctl reload`: reported again, still not loaded
    driver.until(lambda: driver.kinds().count("rejected") == 1)
    driver.until(lambda: driver.tick >= 30)
    assert driver.kinds() == ["rejected"] and reloader.current is None


def test_rename_over_save(make_bot: MakeBot, strat_dir: Path) -> None:
    driver = started(make_bot, strat_dir)
    temp = strat_dir / ".a.py.tmp"
    temp.write_text(returning("renamed"))
    os.replace(temp, strat_dir / "a.py")
    driver.until_event("live")
    driver.step()
    assert driver.results[-1] == {"a": ["renamed"]}


def test_request_reload_revalidates_an_unchanged_rejected_tree(
    make_bot: MakeBot, strat_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runner.publish import publisher
    from runner.reload import validate_tree as real
    from runner.reload.model import Problem, ValidationResult

    missing = [True]  # something outside the folder the tree needs (e.g. a host limit)

    def validate(tree: Any, *args: Any, **kwargs: Any) -> ValidationResult:
        if missing[0]:
            return ValidationResult(tree.generation, (Problem("a.py", 1, "not yet"),))
        return real(tree, *args, **kwargs)

    driver = started(make_bot, strat_dir)
    monkeypatch.setattr(publisher, "validate_tree", validate)
    write(strat_dir, "a.py", returning("v2"))
    driver.until_event("rejected")
    missing[0] = False  # fixed outside the folder
    attempts = driver.reloader.attempts
    driver.until(lambda: driver.tick > 20 and driver.reloader.attempts == attempts)
    assert "live" not in driver.kinds()[1:]  # nothing changed on disk: no retry by itself

    assert driver.bot is not None
    driver.bot.request_reload()  # `ctl reload`: the publisher validates the tree again
    driver.until_event("live")


def test_only_runs_the_selected_strategies_of_the_whole_tree(
    make_bot: MakeBot, strat_dir: Path
) -> None:
    write(strat_dir, "a.py", GOOD)
    write(strat_dir, "b.py", GOOD)
    bot = make_bot(only=["b"])
    reloader = bot.reloader
    bot.load_initial()
    assert reloader.current is not None
    assert list(reloader.current.strategies) == ["b"] and reloader.current.modules == ("a", "b")

    other = make_bot(only=["zeta"])  # another replica of the same bot: same publisher
    [event] = other.load_initial()
    assert event.kind == "rejected" and "zeta" in event.error


def test_sys_modules_do_not_grow_over_200_reloads(make_bot: MakeBot, strat_dir: Path) -> None:
    write(strat_dir, "_common.py", "VALUE = 0\n")
    write(strat_dir, "a.py", "from . import _common\ndef decide(view):\n    return _common.VALUE\n")
    bot = make_bot(probation_ticks=1, quiet=0.005)
    bot.load_initial()
    driver = bot.driver()
    sizes = []
    for i in range(1, 201):
        write(strat_dir, "_common.py", f"VALUE = {i}\n")
        driver.until(lambda: driver.results and driver.results[-1] == {"a": i})  # noqa: B023
        sizes.append(len(sys.modules))
    generations = {k.split(".")[0] for k in sys.modules if k.startswith("_nbgen_")}
    assert len(generations) <= 2  # current (+ last-good)
    assert max(sizes[10:]) <= sizes[10]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_sha_and_dirty_flag(make_bot: MakeBot, strat_dir: Path) -> None:
    def git(*args: str) -> str:
        cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(strat_dir), *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    write(strat_dir, "a.py", GOOD)
    git("add", "a.py")
    git("commit", "-q", "-m", "v1")
    driver = started(make_bot, strat_dir, probation_ticks=0)
    code = driver.reloader.current
    assert code is not None and (code.git_sha, code.git_dirty) == (git("rev-parse", "HEAD"), False)

    write(strat_dir, "a.py", returning("v2"))
    live = driver.until_event("live")
    assert (live.git_sha, live.git_dirty) == (git("rev-parse", "HEAD"), True)


def test_close_stops_the_publisher_threads_and_unloads(make_bot: MakeBot, strat_dir: Path) -> None:
    write(strat_dir, "a.py", GOOD)
    bot = make_bot()
    bot.load_initial()
    code = bot.reloader.current
    assert code is not None and code.package in sys.modules
    bot.close()
    names = ("nb-publisher", "nb-watch-lease", "nb-watch-events")
    wait_for(lambda: all(t.name not in names for t in __import__("threading").enumerate()))
    assert code.package not in sys.modules and bot.reloader.current is None


def test_ticks_in_which_no_strategy_ran_do_not_count_for_probation(
    make_bot: MakeBot, strat_dir: Path
) -> None:
    driver = started(make_bot, strat_dir)
    reloader = driver.reloader
    write(strat_dir, "a.py", returning("v2"))
    live = driver.until_event("live")  # that step reported one ok tick (ran=None: all ran)
    assert live.tick is not None
    tick = live.tick
    for tick in range(live.tick + 1, live.tick + 50):  # paused, or no markets
        assert reloader.report_tick(tick, {}, ran=[]) == []
    assert reloader.on_probation
    assert reloader.report_tick(tick + 1, {}, ran=["a"]) == []
    [promoted] = reloader.report_tick(tick + 2, {}, ran=["a"])
    assert promoted.kind == "promoted" and not reloader.on_probation


def test_without_load_initial_the_first_tick_adopts(make_bot: MakeBot, strat_dir: Path) -> None:
    write(strat_dir, "a.py", GOOD)
    bot = make_bot()
    reloader = bot.reloader
    assert reloader.current is None
    driver = bot.driver()
    live = driver.until_event("live")
    assert live.tick is not None and driver.kinds() == ["live", "promoted"]
    driver.step()
    assert driver.results[-1] == {"a": ["v1"]}


def test_a_change_undone_before_the_boundary_never_goes_live(
    make_bot: MakeBot, strat_dir: Path
) -> None:
    write(strat_dir, "a.py", GOOD)
    bot = make_bot()
    bot.load_initial()
    reloader = bot.reloader
    v1 = reloader.current
    assert v1 is not None

    def published() -> str:
        return str(bot.client.hget(bot.keys.code, "generation") or "")

    write(strat_dir, "a.py", returning("v2"))
    v2 = read_tree(strat_dir).generation
    wait_for(lambda: published() == v2)  # published, but no tick boundary ran here
    write(strat_dir, "a.py", GOOD)
    wait_for(lambda: published() == v1.generation)  # published again (a new seq)

    assert bot.driver().step() == []
    assert reloader.current is v1
    assert not any(k.startswith(f"_nbgen_{v2}") for k in sys.modules)


class UnreachableQuarantine:
    """A shared quarantine whose store is down."""

    def contains(self, generation: str) -> bool:
        raise ConnectionError("redis down")

    def add(self, generation: str, reason: str) -> None:
        raise ConnectionError("redis down")


def test_rollback_and_quarantine_work_with_the_shared_store_down(
    make_bot: MakeBot, strat_dir: Path
) -> None:
    driver = started(make_bot, strat_dir, quarantine=UnreachableQuarantine())
    bad = "def decide(view):\n    raise RuntimeError('boom')\n"
    mark = len(driver.events)
    write(strat_dir, "a.py", bad)
    rolled = driver.until_event("rolled_back", since=mark)
    write(strat_dir, "a.py", returning("v3"))
    driver.until_event("live")
    driver.until_event("promoted")

    mark = len(driver.events)
    write(strat_dir, "a.py", bad)  # back to the bytes that failed: this process remembers
    rejected = driver.until_event("rejected", since=mark)
    assert rejected.generation == rolled.generation and "quarantined" in rejected.error
    assert "live" not in [e.kind for e in driver.events[mark:]]
