"""A small process supervisor: start children from a table, restart crashed ones, stop all.

    sup = Supervisor(log_dir, echo)
    sup.start(ChildSpec("venue", [...argv...]))
    while running: sup.poll(); time.sleep(0.2)     # restarts with backoff, logs each one
    sup.stop_all()                                  # SIGTERM, wait, SIGKILL stragglers

Each child runs in its own session (process group): Ctrl-C in the terminal
reaches only the supervisor, which stops the children in order, and a
straggler is killed with its whole group (rq's scheduler, a work horse, a
validation child), so nothing is left behind. Every line a child prints goes
to `<log_dir>/<name>.log`, and to `echo` (prefixed with the name) unless it matches
one of the spec's quiet patterns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 30.0  # a child that ran this long starts again from the first backoff

Echo = Callable[[str], None]


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    quiet: Sequence[re.Pattern[str]] = ()  # lines matching any are only written to the log


@dataclass
class Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0  # in a row, reset once it ran STABLE_AFTER_S
    total_restarts: int = 0
    restart_at: float | None = None  # monotonic time of the next start
    pumps: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    def __init__(self, log_dir: Path, echo: Echo, verbose: bool = False) -> None:
        self.log_dir = log_dir
        self.echo = echo
        self.verbose = verbose
        self.children: dict[str, Child] = {}
        self.stopping = False

    # -- starting --------------------------------------------------------------
    def start(self, spec: ChildSpec) -> Child:
        child = self.children.get(spec.name) or Child(spec)
        self.children[spec.name] = child
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            list(child.spec.argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )  # fmt: skip
        child.proc, child.started_at, child.restart_at = proc, time.monotonic(), None
        assert proc.stdout is not None
        pump = threading.Thread(
            target=self._pump, args=(child.spec, proc.stdout), name=f"log-{child.spec.name}",
            daemon=True,
        )  # fmt: skip
        pump.start()
        child.pumps.append(pump)

    def _pump(self, spec: ChildSpec, stream: IO[bytes]) -> None:
        path = self.log_dir / f"{spec.name}.log"
        with stream, open(path, "ab") as out:
            for raw in stream:
                out.write(raw)
                out.flush()
                line = raw.decode(errors="replace").rstrip()
                if self.verbose or not any(p.search(line) for p in spec.quiet):
                    self.echo(f"[{spec.name}] {line}")

    # -- supervising -----------------------------------------------------------
    def poll(self) -> None:
        """Notice exits, schedule restarts with backoff, start the ones that are due."""
        now = time.monotonic()
        for child in self.children.values():
            if child.proc is not None and child.proc.poll() is not None:
                self._exited(child, now)
            if child.restart_at is not None and now >= child.restart_at and not self.stopping:
                child.restarts += 1
                child.total_restarts += 1
                self.echo(f"[demo] restarting {child.spec.name} (restart #{child.total_restarts})")
                self._spawn(child)

    def _exited(self, child: Child, now: float) -> None:
        assert child.proc is not None
        code, ran = child.proc.returncode, now - child.started_at
        self._kill_group(child)  # what it left behind (a scheduler, a work horse)
        child.proc = None
        if self.stopping:
            return
        if ran >= STABLE_AFTER_S:
            child.restarts = 0
        delay = min(BACKOFF_FIRST_S * 2**child.restarts, BACKOFF_MAX_S)
        child.restart_at = now + delay
        self.echo(
            f"[demo] {child.spec.name} exited with code {code} after {ran:.1f} s; "
            f"restarting in {delay:g} s"
        )

    def running(self) -> list[str]:
        return [n for n, c in self.children.items() if c.proc and c.proc.poll() is None]

    # -- stopping --------------------------------------------------------------
    def stop_all(
        self, timeout: float = 15.0, first: Sequence[str] = (), then: Sequence[str] = ()
    ) -> list[str]:
        """SIGTERM the children named in `first` and wait for them, then those in `then`,
        then the others; at the deadline SIGKILL the process group of any still running.
        Returns the killed names."""
        self.stopping = True
        deadline = time.monotonic() + timeout
        staged = (*first, *then)
        groups = [
            [c for n, c in self.children.items() if n in first],
            [c for n, c in self.children.items() if n in then],
            [c for n, c in self.children.items() if n not in staged],
        ]
        for group in groups:
            for child in group:
                self._terminate(child)
            for child in group:
                self._wait(child, deadline)
        killed = self.running()
        self.kill_all()
        for child in self.children.values():
            for pump in child.pumps:
                pump.join(timeout=2.0)
        return killed

    def kill_all(self) -> None:
        """SIGKILL every child's process group (whatever is left of it)."""
        for child in self.children.values():
            self._kill_group(child)

    @staticmethod
    def _terminate(child: Child) -> None:
        if child.proc is not None and child.proc.poll() is None:
            child.proc.send_signal(signal.SIGCONT)
            child.proc.terminate()

    @staticmethod
    def _wait(child: Child, deadline: float) -> None:
        if child.proc is None:
            return
        try:
            child.proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            return

    @staticmethod
    def _kill_group(child: Child) -> None:
        """SIGKILL what is left of the child's process group (the child itself, if stuck)."""
        proc = child.proc
        if proc is None or not proc.pid:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait(timeout=5.0)
