"""In-process loading: fresh modules from the bytes we read, the contract, unloading."""

from __future__ import annotations

import linecache
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest

from runner.reload import CodeVersion, Strategy, ValidationError, load_tree, read_tree, unload
from runner.reload.tree import make_tree
from state_store.view import View
from tests.runner.reload.helpers import write

VIEW = View(strategy="s", now=0.0, tick=1, markets=())


@pytest.fixture
def loaded() -> Iterator[list[CodeVersion]]:
    versions: list[CodeVersion] = []
    yield versions
    for version in versions:
        unload(version.package)


def load(directory: Path, loaded: list[CodeVersion]) -> CodeVersion:
    version = load_tree(read_tree(directory))
    loaded.append(version)
    return version


def run(strategy: Strategy) -> object:
    return strategy.decide(VIEW)


def problems_of(directory: Path, **files: str) -> list[str]:
    for name, text in files.items():
        write(directory, f"{name}.py", text)
    before = set(sys.modules)
    with pytest.raises(ValidationError) as info:
        load_tree(read_tree(directory))
    assert set(sys.modules) <= before  # a failed load leaves nothing behind
    return [str(p) for p in info.value.problems]


def test_relative_imports_resolve_within_the_generation(
    strat_dir: Path, loaded: list[CodeVersion]
) -> None:
    write(strat_dir, "_common.py", "VALUE = 1\n")
    write(strat_dir, "_more.py", "from ._common import VALUE\nDOUBLE = VALUE * 2\n")
    write(
        strat_dir,
        "alpha.py",
        """
        from . import _common
        from ._more import DOUBLE

        def decide(view):
            from . import _common as lazy
            return [_common.VALUE, DOUBLE, lazy.VALUE]
        """,
    )
    version = load(strat_dir, loaded)

    assert version.modules == ("_common", "_more", "alpha")
    assert list(version.strategies) == ["alpha"]
    assert run(version.strategies["alpha"]) == [1, 2, 1]
    assert version.package == f"_nbgen_{version.generation}"
    module = sys.modules[f"{version.package}.alpha"]
    assert module.__file__ == str(strat_dir.absolute() / "alpha.py")
    assert not (strat_dir / "__pycache__").exists()


def test_code_runs_from_the_bytes_read_not_from_disk(
    strat_dir: Path, loaded: list[CodeVersion]
) -> None:
    write(strat_dir, "a.py", "def decide(view):\n    return ['read']\n")
    tree = read_tree(strat_dir)
    write(strat_dir, "a.py", "def decide(view):\n    return ['changed later']\n")
    version = load_tree(tree)
    loaded.append(version)
    assert run(version.strategies["a"]) == ["read"]


def test_params_memory_version_and_migrate(strat_dir: Path, loaded: list[CodeVersion]) -> None:
    write(
        strat_dir,
        "a.py",
        """
        from decimal import Decimal
        PARAMS = {"size": Decimal("5"), "tag": "v1", "levels": (1, 2)}
        MEMORY_VERSION = 2

        def migrate(memory, from_version):
            return {**memory, "migrated_from": str(from_version)}

        def decide(view):
            PARAMS["size"] = 0
            return []
        """,
    )
    strategy = load(strat_dir, loaded).strategies["a"]

    assert isinstance(strategy.params, MappingProxyType)
    assert dict(strategy.params)["tag"] == "v1"
    assert strategy.memory_version == 2
    assert strategy.migrate is not None
    assert strategy.migrate({"x": "1"}, 1) == {"x": "1", "migrated_from": "1"}
    with pytest.raises(TypeError):  # the module's own PARAMS is read-only too
        strategy.decide(VIEW)


def test_defaults_without_params_or_memory(strat_dir: Path, loaded: list[CodeVersion]) -> None:
    write(strat_dir, "a.py", "def decide(view):\n    return []\n")
    strategy = load(strat_dir, loaded).strategies["a"]
    assert (dict(strategy.params), strategy.memory_version, strategy.migrate) == ({}, 0, None)


def test_contract_violations_say_what_and_where(strat_dir: Path) -> None:
    problems = problems_of(
        strat_dir,
        a="""
        PARAMS = {"size": [5], 3: "x"}
        MEMORY_VERSION = True

        def migrate(memory):
            return memory

        def decide():
            return []
        """,
        b="""
        PARAMS = ["not", "a", "dict"]
        decide = 42
        """,
    )
    assert problems == [
        "a.py:1: PARAMS['size'] holds a list; parameter values must be immutable",
        "a.py:1: PARAMS key 3 is not a str",
        "a.py:7: decide must accept decide(view)",
        "a.py:2: MEMORY_VERSION must be an int >= 0, not True",
        "a.py:4: migrate must accept migrate(memory, from_version)",
        "b.py:1: PARAMS is list, not a dict",
        "b.py:2: decide is int, not a function",
    ]


def test_mutable_module_state_is_rejected_in_strategies_and_helpers(strat_dir: Path) -> None:
    problems = problems_of(
        strat_dir,
        _helper="""
        from __future__ import annotations
        import logging
        log = logging.getLogger(__name__)
        LIMITS = (1, 2)
        REGISTRY = []
        """,
        a="""
        from decimal import Decimal
        from . import _helper
        THRESHOLD = Decimal("0.5")
        CACHE = {}
        seen = []

        def _make():
            counts = {}
            def bump(key):
                counts[key] = counts.get(key, 0) + 1
            return bump

        bump = _make()

        def decide(view, _memo={}):
            return []
        """,
    )
    assert [p.split(" holds ")[0] for p in problems] == [
        "_helper.py:5: module-level REGISTRY",
        "a.py:4: module-level CACHE",
        "a.py:5: module-level seen",
        "a.py:9: bump() closure variable counts",
        "a.py:15: decide() default argument _memo",
    ]
    assert "not shared between replicas" in problems[0]


def test_import_errors_point_at_the_file_and_line(strat_dir: Path) -> None:
    assert problems_of(
        strat_dir,
        _helper="X = 1\nY = 1 / 0\n",
        a="from . import _helper\ndef decide(view):\n    return []\n",
    ) == ["_helper.py:2: import failed: ZeroDivisionError: division by zero"]


def test_sys_exit_during_import_is_reported_not_obeyed(strat_dir: Path) -> None:
    assert problems_of(strat_dir, a="import sys\nsys.exit(4)\n") == [
        "a.py:2: called sys.exit(4) while being imported"
    ]


def test_tracebacks_show_the_generation_and_the_code_that_ran(
    strat_dir: Path, loaded: list[CodeVersion]
) -> None:
    write(strat_dir, "a.py", "def decide(view):\n    raise RuntimeError('old code')\n")
    version = load(strat_dir, loaded)
    write(strat_dir, "a.py", "# edited on disk since\n\ndef decide(view):\n    return []\n")

    with pytest.raises(RuntimeError) as info:
        version.strategies["a"].decide(VIEW)

    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert frame.filename == f"{strat_dir.absolute() / 'a.py'}@{version.generation}"
    assert frame.line == "raise RuntimeError('old code')"


def test_unload_forgets_modules_sources_and_loggers(strat_dir: Path) -> None:
    write(strat_dir, "a.py", "import logging\nlog = logging.getLogger(__name__)\n")
    write(strat_dir, "b.py", "from . import a\ndef decide(view):\n    return []\n")
    before_modules, before_lines = set(sys.modules), set(linecache.cache)
    before_loggers = set(logging.Logger.manager.loggerDict)

    first = load_tree(read_tree(strat_dir))
    second = load_tree(read_tree(strat_dir))  # same generation twice: separate packages
    assert first.generation == second.generation and first.package != second.package

    assert unload(first.package) == 3
    assert second.strategies["b"].decide(VIEW) == []
    assert f"{second.package}.b" in sys.modules
    assert unload(second.package) == 3

    assert set(sys.modules) == before_modules
    assert set(linecache.cache) == before_lines
    assert set(logging.Logger.manager.loggerDict) == before_loggers
    with pytest.raises(ValueError, match="not a strategies generation"):
        unload("json")


def test_an_empty_tree_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"no \.py files"):
        load_tree(make_tree(tmp_path, {}))
