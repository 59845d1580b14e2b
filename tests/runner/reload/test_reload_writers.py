"""Files still open for writing, by this process or another, via /proc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.reload.writers import find_writers, open_for_writing, proc_available
from tests.runner.reload.helpers import wait_for, write

needs_proc = pytest.mark.skipif(not proc_available(), reason="no /proc on this platform")


@needs_proc
@pytest.mark.parametrize(
    ("mode", "writing"), [("w", True), ("a", True), ("r+", True), ("r", False)]
)
def test_open_modes(strat_dir: Path, mode: str, writing: bool) -> None:
    path = write(strat_dir, "a.py", "X = 1\n")
    with open(path, mode):
        assert open_for_writing([path]) == ({path} if writing else set())
    assert open_for_writing([path]) == set()


@needs_proc
def test_a_writer_in_another_process_is_found_until_it_closes(strat_dir: Path) -> None:
    path = write(strat_dir, "a.py", "X = 1\n")
    other = write(strat_dir, "b.py", "Y = 1\n")
    script = "import sys; f = open(sys.argv[1], 'a'); print('open', flush=True); sys.stdin.read()"
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "open\n"
        writers = find_writers([path, other])
        assert [(w.path, w.pid) for w in writers] == [(path, child.pid)]
        assert "python" in writers[0].command
    finally:
        child.communicate("")  # closes stdin: the child exits
    wait_for(lambda: not open_for_writing([path]), what="writer gone")


@needs_proc
def test_a_file_reached_through_a_symlinked_folder_is_matched(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    path = write(tmp_path / "link", "a.py", "X = 1\n")
    with open(real / "a.py", "a"):
        assert open_for_writing([path]) == {path}


def test_processes_vanishing_mid_scan_are_skipped(tmp_path: Path) -> None:
    """A fake /proc: a pid with no fd dir, a dangling fd, an fd without fdinfo, one writer."""
    target = write(tmp_path, "a.py", "X = 1\n")
    proc = tmp_path / "proc"
    (proc / "self" / "fdinfo").mkdir(parents=True)
    (proc / "17").mkdir()  # exited: no fd/ any more
    pid = proc / "42"
    (pid / "fd").mkdir(parents=True)
    (pid / "fdinfo").mkdir()
    (pid / "comm").write_text("editor\n")
    os.symlink(str(target), pid / "fd" / "3")  # no fdinfo/3: closed meanwhile
    os.symlink(str(target), pid / "fd" / "4")
    (pid / "fdinfo" / "4").write_text("pos:\t0\nflags:\t0100001\nmnt_id:\t1\n")  # O_WRONLY
    os.symlink(str(target), pid / "fd" / "5")
    (pid / "fdinfo" / "5").write_text("pos:\t0\nflags:\t0100000\n")  # O_RDONLY
    os.symlink(str(tmp_path / "gone.py"), pid / "fd" / "6")

    writers = find_writers([target], proc=proc)

    assert [(w.pid, w.fd, w.command) for w in writers] == [(42, 4, "editor")]
    assert proc_available(proc)
    assert not proc_available(tmp_path / "no-proc")
    assert find_writers([target], proc=tmp_path / "no-proc") == []


def test_unreadable_processes_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write(tmp_path, "a.py", "X = 1\n")
    proc = tmp_path / "proc"
    for pid in ("7", "8"):
        (proc / pid / "fd").mkdir(parents=True)
        (proc / pid / "fdinfo").mkdir()
        os.symlink(str(target), proc / pid / "fd" / "3")
        (proc / pid / "fdinfo" / "3").write_text("flags:\t02\n")  # O_RDWR
    real_listdir = os.listdir

    def listdir(path: str | os.PathLike[str]) -> list[str]:
        if str(path).endswith("/7/fd"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)

    monkeypatch.setattr("runner.reload.writers.os.listdir", listdir)
    assert [w.pid for w in find_writers([target], proc=proc)] == [8]
