"""The tree: which files count, bytes read once, the generation hash, change detection."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from runner.reload.tree import (
    generation_of,
    is_source_name,
    make_tree,
    read_stable_tree,
    read_tree,
    stat_signature,
    wait_quiet,
)
from tests.runner.reload.helpers import write


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("momentum.py", True),
        ("_common.py", True),
        ("__init__.py", False),
        (".hidden.py", False),
        (".#momentum.py", False),  # emacs lock
        ("#momentum.py#", False),  # emacs autosave
        ("momentum.py~", False),
        ("momentum.py.swp", False),
        (".momentum.py.swp", False),
        ("4913", False),  # vim's write probe
        ("momentum.py___jb_tmp___", False),
        ("notes.txt", False),
    ],
)
def test_which_files_belong_to_the_tree(name: str, counts: bool) -> None:
    assert is_source_name(name) is counts


def test_read_tree_skips_non_sources_and_subfolders(strat_dir: Path) -> None:
    write(strat_dir, "b.py", "X = 1\n")
    write(strat_dir, "a.py", "Y = 2\n")
    write(strat_dir, "__init__.py", "")
    write(strat_dir, ".a.py.swp", "junk")
    write(strat_dir, "4913", "")
    (strat_dir / "sub").mkdir()
    write(strat_dir / "sub", "c.py", "Z = 3\n")
    (strat_dir / "dir.py").mkdir()

    tree = read_tree(strat_dir)

    assert [f.name for f in tree.files] == ["a.py", "b.py"]
    assert tree.files[0].data == b"Y = 2\n"
    assert tree.hashes["a.py"] == hashlib.sha256(b"Y = 2\n").hexdigest()


def test_generation_is_a_hash_of_sorted_names_and_file_hashes(strat_dir: Path) -> None:
    write(strat_dir, "b.py", "X = 1\n")
    write(strat_dir, "a.py", "Y = 2\n")
    tree = read_tree(strat_dir)

    material = "".join(f"{n}\0{tree.hashes[n]}\n" for n in ["a.py", "b.py"]).encode()
    assert tree.generation == hashlib.sha256(material).hexdigest()[:16]
    assert tree.generation == generation_of(dict(reversed(list(tree.hashes.items()))))
    # same bytes anywhere -> same generation; a rename -> a different one
    same = make_tree(Path("/elsewhere"), {"a.py": b"Y = 2\n", "b.py": b"X = 1\n"})
    renamed = make_tree(Path("/elsewhere"), {"c.py": b"Y = 2\n", "b.py": b"X = 1\n"})
    assert same.generation == tree.generation != renamed.generation


def test_stat_signature_sees_edits_new_files_deletes_and_renames(strat_dir: Path) -> None:
    path = write(strat_dir, "a.py", "X = 1\n")
    first = stat_signature(strat_dir)
    assert stat_signature(strat_dir) == first

    write(strat_dir, "a.py", "X = 22\n")
    second = stat_signature(strat_dir)
    assert second != first

    tmp = strat_dir / ".a.py.tmp"
    tmp.write_text("X = 3\n")
    assert stat_signature(strat_dir) == second  # a dotfile temp does not count
    os.replace(tmp, path)
    third = stat_signature(strat_dir)
    assert third != second  # new inode

    write(strat_dir, "b.py", "Y = 1\n")
    assert stat_signature(strat_dir) != third
    path.unlink()
    assert [s[0] for s in stat_signature(strat_dir)] == ["b.py"]


def test_missing_folder_is_an_empty_tree(tmp_path: Path) -> None:
    assert stat_signature(tmp_path / "nope") == ()
    assert read_tree(tmp_path / "nope").files == ()


def test_double_read_refuses_a_tree_that_changes_between_reads(strat_dir: Path) -> None:
    path = write(strat_dir, "a.py", "X = 1\n")

    def writer_still_busy(_: float) -> None:
        path.write_text("X = 1\nY = 2\n")

    assert read_stable_tree(strat_dir, 0.01, writer_still_busy) is None

    stable = read_stable_tree(strat_dir, 0.01, lambda _: None)
    assert stable is not None
    assert stable.files[0].data == b"X = 1\nY = 2\n"


def test_wait_quiet_gives_up_at_the_deadline_while_files_keep_changing(strat_dir: Path) -> None:
    path = write(strat_dir, "a.py", "X = 0\n")
    counter = iter(range(1000))

    def keep_writing(_: float) -> None:
        path.write_text("X = 1\n" * (next(counter) + 2))  # size changes every time

    assert wait_quiet(strat_dir, 0.001, keep_writing, until=time.monotonic() + 0.05) is None
    assert wait_quiet(strat_dir, 0.001, lambda _: None) == stat_signature(strat_dir)
