"""Static checks from the AST: load order, relative imports, cycles, `global`."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.reload.scan import scan_tree
from runner.reload.tree import make_tree

HERE = Path("/srv/bot/strategies")


def scan(**files: str) -> tuple[tuple[str, ...], list[str]]:
    tree = make_tree(HERE, {f"{name}.py": text.encode() for name, text in files.items()})
    result = scan_tree(tree)
    return result.order, [str(p) for p in result.problems]


def test_helpers_load_before_their_importers_ties_by_name() -> None:
    order, problems = scan(
        zeta="from . import _common\nfrom ._math import clip\n",
        alpha="def decide(view):\n    from . import _common\n    return []\n",
        _math="from ._common import X\n",
        _common="X = 1\n",
        beta="Y = 2\n",
    )
    assert problems == []
    assert order == ("_common", "_math", "alpha", "beta", "zeta")


def test_an_import_cycle_is_an_error() -> None:
    order, problems = scan(a="from . import b\n", b="from .c import x\n", c="from . import a\n")
    assert order == ()
    assert problems == ["a.py: import cycle: a.py -> b.py -> c.py -> a.py"]


def test_absolute_imports_of_the_folder_must_be_relative() -> None:
    _, problems = scan(
        a="import strategies._common\nfrom strategies import _common\nimport _common\n",
        _common="X = 1\n",
    )
    assert len(problems) == 3
    assert all("use a relative import so the helper reloads with you" in p for p in problems)
    assert [p.split(":")[1] for p in problems] == ["1", "2", "3"]


def test_the_folder_name_counts_as_the_package_too() -> None:
    tree = make_tree(Path("/srv/bot/strats"), {"a.py": b"from strats import b\n", "b.py": b""})
    assert "use a relative import" in str(scan_tree(tree).problems[0])


def test_stdlib_names_shadowed_by_a_helper_are_not_flagged() -> None:
    _, problems = scan(a="import math\nimport json\n", math="X = 1\n")
    assert problems == []


def test_bad_relative_imports() -> None:
    _, problems = scan(
        a="from .. import x\nfrom . import missing\nfrom .b.c import d\nfrom . import *\n",
        b="",
    )
    assert problems == [
        "a.py:1: relative import beyond the strategies folder",
        "a.py:2: relative import of 'missing': no missing.py in the folder",
        "a.py:3: from .b.c: the strategies folder has no subpackages",
        "a.py:4: `from . import *` imports nothing; name the helper module",
    ]


def test_global_statements_in_functions_and_classes_are_errors() -> None:
    source = (
        "global harmless\n"
        "n = 0\n"
        "def decide(view):\n"
        "    global n\n"
        "    n += 1\n"
        "    return []\n"
        "class K:\n"
        "    def m(self):\n"
        "        global n, z\n"
    )
    _, problems = scan(a=source)
    assert len(problems) == 2
    assert problems[0].startswith("a.py:4: `global n` in decide: module state")
    assert problems[1].startswith("a.py:9: `global n, z` in K.m:")


def test_syntax_errors_and_bad_file_names_say_where() -> None:
    _, problems = scan(a="def decide(view)\n    return []\n", **{"my-strategy": "X = 1\n"})
    assert problems == [
        "a.py:1: SyntaxError: expected ':'",
        "my-strategy.py: 'my-strategy' is not a valid module name; rename the file",
    ]


def test_binding_lines_of_module_level_names() -> None:
    tree = make_tree(
        HERE,
        {
            "a.py": b"import os\nfrom . import b as bee\nif True:\n    CACHE = {}\n"
            b"for i in range(2):\n    pass\ndef f():\n    local = 1\nclass K:\n    attr = 2\n",
            "b.py": b"",
        },
    )
    lines = scan_tree(tree).modules["a"].lines
    assert dict(lines) == {"os": 1, "bee": 2, "CACHE": 4, "i": 5, "f": 7, "K": 9}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_load_order_respects_every_dependency_and_is_deterministic(data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from("abcdefgh"), min_size=1, unique=True))
    # edges only from later to earlier names in a random permutation: a DAG
    ranked = data.draw(st.permutations(names))
    deps = {
        name: data.draw(st.sets(st.sampled_from(ranked[:i]))) if i else set()
        for i, name in enumerate(ranked)
    }
    files = {
        f"{n}.py": "".join(f"from . import {d}\n" for d in sorted(ds)).encode()
        for n, ds in deps.items()
    }
    order = scan_tree(make_tree(HERE, files)).order
    assert sorted(order) == sorted(names)
    for name, ds in deps.items():
        assert all(order.index(d) < order.index(name) for d in ds)
    shuffled = dict(reversed(list(files.items())))
    assert scan_tree(make_tree(HERE, shuffled)).order == order
