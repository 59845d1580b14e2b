"""The demo's supervisor: prefixed output, restarts with backoff, and nothing left behind."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from control import supervise
from control.supervise import ChildSpec, Supervisor

STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print("grandchild", child.pid, flush=True)
time.sleep(120)
"""


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [x for x in self.lines if re.search(pattern, x)]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in {self.lines}")


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_output_is_prefixed_logged_and_quiet_lines_filtered(tmp_path: Path) -> None:
    lines = Lines()
    sup = Supervisor(tmp_path, lines)
    quiet = (re.compile("noise"),)
    sup.start(ChildSpec("talker", python("print('hello'); print('noise')"), quiet))
    lines.wait_for(r"^\[talker\] hello$")
    sup.stop_all(timeout=5)
    assert "noise" in (tmp_path / "talker.log").read_text()
    assert not [x for x in lines.lines if "noise" in x]


def test_a_crashed_child_is_restarted_with_backoff_and_the_restart_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervise, "BACKOFF_FIRST_S", 0.05)
    lines = Lines()
    sup = Supervisor(tmp_path, lines)
    sup.start(ChildSpec("crasher", python("import sys; print('up', flush=True); sys.exit(3)")))
    deadline = time.monotonic() + 10
    while sup.children["crasher"].total_restarts < 2 and time.monotonic() < deadline:
        sup.poll()
        time.sleep(0.02)
    assert sup.children["crasher"].total_restarts >= 2
    lines.wait_for(r"crasher exited with code 3 after .*; restarting in 0\.05 s")
    lines.wait_for(r"crasher exited with code 3 after .*; restarting in 0\.1 s")  # doubled
    lines.wait_for(r"restarting crasher \(restart #2\)")
    sup.stop_all(timeout=5)


def test_stop_all_kills_stragglers_with_their_children(tmp_path: Path) -> None:
    lines = Lines()
    sup = Supervisor(tmp_path, lines)
    sup.start(ChildSpec("polite", python("import time; time.sleep(120)")))
    sup.start(ChildSpec("stubborn", python(STUBBORN)))
    grandchild = int(lines.wait_for(r"grandchild \d+").split()[-1])
    pids = [c.proc.pid for c in sup.children.values() if c.proc is not None] + [grandchild]
    killed = sup.stop_all(timeout=1.0, first=["polite"])
    assert killed == ["stubborn"]
    for pid in pids:  # SIGKILL lands asynchronously: wait (bounded) for each to be gone
        assert wait_gone(pid), f"pid {pid} still running"
    assert sup.running() == []


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False
