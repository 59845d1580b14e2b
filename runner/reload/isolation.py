"""Importing a tree in a child process, so a bad import cannot touch the caller.

No longer the validator's import step (validation loads a tree in a candidate
strategy host, runner.host): kept as `neverblink bench host`'s reference for
the path runners took before the host.

An import that hangs, calls os._exit / sys.exit, or segfaults kills or stalls
only the child. Children come from a multiprocessing "forkserver": one server
process imports the heavy modules once (`PRELOAD`, including the parent's main
module, see fsmain), then every validation is a cheap fork of it (~5-15 ms).
A child that outlives the timeout is killed. The parent's main module must be
import-safe (`if __name__ == "__main__":`), as multiprocessing always requires.

The forkserver is one per process (a multiprocessing singleton). Each
Isolation holds a reference; the last one closed stops the server.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import multiprocessing.spawn
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from runner.reload.loader import load_tree
from runner.reload.model import Problem, ValidationError
from runner.reload.tree import Tree

log = logging.getLogger(__name__)

PRELOAD = (
    "runner.reload.isolation",
    "runner.reload.loader",
    "decimal",
    "state_store.models",
    "state_store.view",
    "runner.reload.fsmain",  # last: the parent's main module, see fsmain
)
_JOIN_GRACE = 2.0
MAIN_ENV = "NEVERBLINK_FORKSERVER_MAIN"


def main_spec() -> str:
    """How a child would rebuild our main module: "path:<file>", "name:<module>" or ""."""
    try:
        data = multiprocessing.spawn.get_preparation_data("nb-validate")
    except RuntimeError:  # called while the main module itself is being imported
        return ""
    if "init_main_from_path" in data:
        return f"path:{data['init_main_from_path']}"
    if "init_main_from_name" in data:
        return f"name:{data['init_main_from_name']}"
    return ""


@dataclass(frozen=True)
class ChildReport:
    """What the child found: problems (empty when the tree imports and honours the contract)."""

    problems: tuple[Problem, ...]
    modules: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()


def child_main(tree: Tree, package_names: tuple[str, ...], conn: Connection) -> None:
    """Entry point in the child: load the tree and send back a ChildReport."""
    try:
        version = load_tree(tree, package_names=package_names, progress=conn.send)
        report = ChildReport((), version.modules, tuple(version.strategies))
    except ValidationError as exc:
        report = ChildReport(exc.problems)
    except BaseException as exc:  # anything else is still the tree's fault, report it
        report = ChildReport((Problem("", None, f"validation crashed: {exc!r}"),))
    conn.send(report)
    conn.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip atexit handlers and thread joins that the imported code may have set up


class Isolation:
    """Runs `child_main` in forked children of a shared, preloaded forkserver."""

    _lock = threading.Lock()
    _users = 0

    def __init__(self, preload: tuple[str, ...] = PRELOAD) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        self._closed = False
        with Isolation._lock:
            if Isolation._users == 0:
                os.environ[MAIN_ENV] = main_spec()  # inherited by the server, see fsmain
                self._ctx.set_forkserver_preload(list(preload))
            Isolation._users += 1

    def start(self) -> None:
        """Start the forkserver now (it costs a fresh interpreter plus the preloads)."""
        multiprocessing.forkserver.ensure_running()

    def run(self, tree: Tree, timeout: float, package_names: tuple[str, ...] = ()) -> ChildReport:
        """Import `tree` in a child; a problem report if it fails, hangs or dies."""
        if self._closed:
            raise RuntimeError("Isolation is closed")
        reader, writer = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(
            target=child_main,
            args=(tree, package_names, writer),
            name=f"nb-validate-{tree.generation}",
            daemon=True,
        )
        started = False
        try:
            proc.start()
            started = True
            writer.close()
            return _collect(proc, reader, timeout)
        finally:
            writer.close()
            reader.close()
            if started:
                _reap(proc)

    def close(self) -> None:
        """Drop this reference; the last one stops the forkserver."""
        if self._closed:
            return
        self._closed = True
        with Isolation._lock:
            Isolation._users -= 1
            if Isolation._users == 0:
                _stop_forkserver()


def _collect(proc: Any, reader: Connection, timeout: float) -> ChildReport:
    """Read the child's progress (file names) until its report, its death or the deadline."""
    deadline = time.monotonic() + timeout
    importing = ""  # the file whose top-level code was running last
    while True:
        left = deadline - time.monotonic()
        ready = multiprocessing.connection.wait([reader, proc.sentinel], max(left, 0))
        if not ready:
            proc.kill()
            msg = f"import did not finish within {timeout:g} s (hangs?); the child was killed"
            return ChildReport((Problem(importing, None, msg),))
        if reader not in ready:
            break  # the child is gone; unread data would have made reader ready too
        try:
            message = reader.recv()
        except EOFError:
            break
        if isinstance(message, ChildReport):
            return message
        importing = str(message)
    proc.join(_JOIN_GRACE)
    return ChildReport((Problem(importing, None, _death(proc.exitcode)),))


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return f"the import killed its process with {name} (crashed?)"
    return f"the import ended its process with exit code {code} (os._exit or similar?)"


def _reap(proc: Any) -> None:
    """Make sure the child is gone and its resources released."""
    proc.join(_JOIN_GRACE)
    if proc.is_alive():
        proc.kill()
        proc.join(_JOIN_GRACE)
    if not proc.is_alive():
        proc.close()


def _stop_forkserver() -> None:
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if stop is None:
        return  # the (private) hook is gone in this Python; the server dies with us
    try:
        stop()
    except OSError as exc:
        log.warning("stopping the validation forkserver: %s", exc)
