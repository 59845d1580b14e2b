"""Validation: static checks here, the import in a candidate strategy host under a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.host.client import StrategyHost
from runner.reload import validate_tree
from runner.reload.tree import make_tree

GOOD = "def decide(view):\n    return []\n"
DIR = Path("/srv/bot/strategies")


@pytest.fixture(scope="module")
def host() -> Iterator[StrategyHost]:
    made = StrategyHost(load_timeout_s=1.0)
    yield made
    made.close()


BAD_TREES = {
    "syntax error": (
        {"a.py": "def decide(view)\n    return []\n"},
        "a.py:1: SyntaxError: expected ':'",
    ),
    "compile error": (
        {"a.py": GOOD + "return 1\n"},
        "a.py:3: SyntaxError: 'return' outside function",
    ),
    "import error": (
        {"a.py": "import nonexistent_module_xyz\n" + GOOD},
        "a.py:1: import of 'nonexistent_module_xyz' is not allowed",
    ),
    "hang": (
        {"a.py": "import math\nwhile True:\n    math.sqrt(2)\n" + GOOD},
        "a.py: hung: import did not finish within 1 s (hangs?)",
    ),
    "time.sleep (not allowed)": (
        {"a.py": "import time\ntime.sleep(30)\n" + GOOD},
        "a.py:1: import of 'time' is not allowed",
    ),
    "os._exit": (
        {"a.py": "import os\nos._exit(7)\n" + GOOD},
        "a.py:1: import of 'os' is not allowed",
    ),
    "raise SystemExit": (
        {"a.py": "raise SystemExit('bye')\n" + GOOD},
        "a.py:1: called sys.exit('bye') while being imported",
    ),
    "no decide anywhere": ({"a.py": "X = 1\n"}, "no module defines decide(view)"),
    "mutable dict": ({"a.py": "CACHE = {}\n" + GOOD}, "a.py:1: module-level CACHE holds a dict"),
    "mutable list": ({"a.py": GOOD + "seen = []\n"}, "a.py:3: module-level seen holds a list"),
    "global statement": (
        {"a.py": "n = 0\ndef decide(view):\n    global n\n    n += 1\n    return []\n"},
        "a.py:3: `global n` in decide",
    ),
    "absolute import": (
        {"a.py": "from strategies import _h\n" + GOOD, "_h.py": "X = 1\n"},
        "a.py:1: absolute import of 'strategies': use a relative import so the helper "
        "reloads with you",
    ),
    "cycle": (
        {"a.py": "from . import b\n" + GOOD, "b.py": "from . import a\n"},
        "a.py: import cycle: a.py -> b.py -> a.py",
    ),
    "empty": ({}, "/srv/bot/strategies has no strategy files (*.py)"),
}


@pytest.mark.parametrize("case", BAD_TREES, ids=str)
def test_bad_trees_are_rejected_with_a_reason(host: StrategyHost, case: str) -> None:
    files, expected = BAD_TREES[case]
    tree = make_tree(DIR, {name: text.encode() for name, text in files.items()})
    before = os.getpid()

    result = validate_tree(tree, timeout=1.0, host=host)

    assert not result.ok
    assert expected in result.error, result.error
    assert os.getpid() == before  # we are still here


def test_a_good_tree_passes_and_reports_what_it_found(host: StrategyHost) -> None:
    tree = make_tree(
        DIR,
        {"_common.py": b"X = 1\n", "a.py": f"from . import _common\n{GOOD}".encode()},
    )
    result = validate_tree(tree, timeout=5.0, host=host)
    assert result.ok, result.error
    assert (result.modules, result.strategies) == (("_common", "a"), ("a",))
    assert result.generation == tree.generation


def test_selected_strategies_must_exist(host: StrategyHost) -> None:
    tree = make_tree(DIR, {"a.py": GOOD.encode(), "b.py": GOOD.encode()})
    assert validate_tree(tree, only=["a"], host=host).ok
    result = validate_tree(tree, only=["a", "zeta"], host=host)
    assert result.error == "selected strategies not in the tree: zeta (have: a, b)"


def test_a_live_strategy_that_lost_decide_is_rejected(host: StrategyHost) -> None:
    tree = make_tree(DIR, {"a.py": b"def decid(view):\n    return []\n", "b.py": GOOD.encode()})
    assert validate_tree(tree, host=host).ok  # a is a helper now, b a strategy
    result = validate_tree(tree, previous=["a", "b"], host=host)
    assert result.error.startswith("a.py: no longer defines decide(view)")
    deleted = make_tree(DIR, {"b.py": GOOD.encode()})
    assert validate_tree(deleted, previous=["a", "b"], host=host).ok


def test_the_default_host_works_without_setup() -> None:
    tree = make_tree(DIR, {"a.py": GOOD.encode()})
    assert validate_tree(tree).ok


def test_the_last_isolation_closed_stops_the_forkserver(tmp_path: Path) -> None:
    """In a fresh interpreter, so this session's own forkserver users do not count."""
    script = tmp_path / "check.py"
    script.write_text(
        "import multiprocessing.forkserver as fs, os\n"
        "from pathlib import Path\n"
        "from runner.reload import Isolation, validate_tree, make_tree\n"
        "if __name__ == '__main__':\n"
        "    a, b = Isolation(), Isolation()\n"
        "    tree = make_tree(Path('/x'), {'a.py': b'def decide(view):\\n    return []\\n'})\n"
        "    assert not a.run(tree, 5.0, ()).problems\n"
        "    pid = fs._forkserver._forkserver_pid\n"
        "    a.close()\n"
        "    os.kill(pid, 0)  # b still holds it: alive\n"
        "    b.close()\n"
        "    try:\n"
        "        os.kill(pid, 0)\n"
        "    except ProcessLookupError:\n"
        "        print('stopped')\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, str(script)], cwd=root, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert done.stdout.strip() == "stopped", done.stderr


def test_children_do_not_re_run_the_main_script(tmp_path: Path) -> None:
    """The forkserver imports our main once; forked children must not import it again."""
    runs = tmp_path / "runs.log"
    script = tmp_path / "main_script.py"
    script.write_text(
        f"with open({str(runs)!r}, 'a') as log:\n"
        "    log.write('imported\\n')  # the expensive app import of a real main\n"
        "from pathlib import Path\n"
        "from runner.reload import Isolation, validate_tree, make_tree\n"
        "if __name__ == '__main__':\n"
        "    iso = Isolation()\n"
        "    tree = make_tree(Path('/x'), {'a.py': b'def decide(view):\\n    return []\\n'})\n"
        "    for _ in range(5):\n"
        "        assert not iso.run(tree, 5.0, ()).problems\n"
        "    iso.close()\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, str(script)], cwd=root, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert runs.read_text().count("imported") == 2  # this process + the forkserver, not 5 more
