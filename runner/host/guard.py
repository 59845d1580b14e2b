"""Containment inside the strategy host, set up before any strategy code loads.

Layers, from the hardest to the softest:

1. The process itself: strategy code never runs in a runner. The runner kills
   a host that overruns the decide budget, exits or crashes, and restarts it.
2. Kernel limits (`apply_limits`): address space (RLIMIT_AS: a runaway
   allocation raises MemoryError), CPU seconds over the host's life
   (RLIMIT_CPU: an orphaned spinning host dies), open files (RLIMIT_NOFILE),
   no core dumps; and PR_SET_PDEATHSIG, so the host dies with its runner.
   RLIMIT_NPROC is not used: it counts every process of the user, not ours.
3. A PEP 578 audit hook (`arm`) that refuses, for the rest of the host's life,
   file opens, fresh imports outside the allowlist, sockets, subprocesses,
   os.system/exec/fork/kill, signals, ctypes, gc introspection and rlimit
   changes. The host needs none of these once armed (everything it uses is
   preloaded), so the hook has no "trusted" switch a strategy could flip, and
   its state lives in a closure nothing references. Each refusal is also
   written to the runner as a `refused` frame at once, so a strategy that
   catches the PermissionError is still reported (and never promoted).
4. Thread starts, `os._exit` and `os.abort` (which have no audit event in
   3.11) are replaced by refusing functions; the host also counts threads
   after every call (`threads_alive`), and the runner restarts a host that
   has more than its own.
5. `allowlist.guarded_import` as `builtins.__import__`: strategy modules can
   import only what the allowlist names.

What this does not do: Python cannot be sandboxed against a determined
attacker inside one interpreter (object graph tricks reach the host's own
modules). That is why nothing the host says is trusted: the runner checks
every decision against the view it sent, enforces the deadline itself, and
reads replies with a JSON codec that cannot run code.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import os
import resource
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from runner.host.allowlist import ALLOWED_MODULES, allowed, guarded_import

# Extra modules the host or the allowed modules import lazily; loaded before arming.
PRELOAD_EXTRA = ("_strptime", "json.decoder", "json.encoder", "traceback", "linecache")

REFUSED_PREFIXES = (
    "os.",
    "socket.",
    "shutil.",
    "ctypes.",
    "subprocess.",
    "pty.",
    "gc.",
    "resource.",
    "signal.",
    "syslog.",
    "mmap.",
    "sqlite3.",
    "tempfile.",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "poplib.",
    "imaplib.",
    "nntplib.",
    "telnetlib.",
    "webbrowser.",
    "glob.",
    "fcntl.",
    "msvcrt.",
    "winreg.",
    "_winapi.",
)
REFUSED_EVENTS = frozenset(
    {
        "open",
        "sys.addaudithook",
        "sys.settrace",
        "sys.setprofile",
        "sys._current_frames",
        "sys.remote_exec",
        "code.__new__",
        "function.__new__",
    }
)
_NO_AUDIT_EVENT = "neverblink.no_event"  # pseudo event name for the patched functions


@dataclass(frozen=True)
class HostLimits:
    """Kernel limits of one strategy host process."""

    memory_mb: int = 1024  # RLIMIT_AS
    cpu_seconds: int = 3600  # RLIMIT_CPU over the host's life (a backstop; see apply_limits)
    open_files: int = 64  # RLIMIT_NOFILE


def apply_limits(limits: HostLimits) -> None:
    """Lower this process's limits (never raise them above what it was given)."""
    _lower(resource.RLIMIT_AS, limits.memory_mb * 1024 * 1024)
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds)
    _lower(resource.RLIMIT_NOFILE, limits.open_files)
    _lower(resource.RLIMIT_CORE, 0)


def _lower(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    # the hard CPU limit a little above the soft one: SIGXCPU first, then SIGKILL
    new_hard = value + 5 if which == resource.RLIMIT_CPU else value
    if hard != resource.RLIM_INFINITY:
        new_hard = min(new_hard, hard)
    resource.setrlimit(which, (value, new_hard))


def die_with_parent() -> None:
    """PR_SET_PDEATHSIG(SIGKILL): the kernel kills the host when the thread that started it dies.

    The runner starts hosts from its main thread (the tick), so that is the runner's life.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)


def preload() -> None:
    """Import every module strategies may use (and their lazy parts) while files may be opened."""
    for name in sorted(ALLOWED_MODULES | set(PRELOAD_EXTRA)):
        if name != "__future__":
            importlib.import_module(name)
    importlib.import_module("__future__")


def arm(report_fd: int, progress: Any) -> None:
    """Install the audit hook and the refusing replacements; cannot be undone.

    `progress` (the shared board, an mmap) tells which call was running at a refusal.
    """
    write, encode = os.write, _json_string()
    refused_events, refused_prefixes, may_import = REFUSED_EVENTS, REFUSED_PREFIXES, allowed

    def report(event: str, detail: str) -> None:
        board = bytes(progress[:8])
        at = f"[{int.from_bytes(board[:4], 'big')},{int.from_bytes(board[4:8], 'big')}]"
        body = f'{{"op":"refused","event":{encode(event)},"detail":{encode(detail)},"at":{at}}}'
        data = body.encode()
        with contextlib.suppress(OSError):
            write(report_fd, len(data).to_bytes(4, "big") + data)

    def refuse(event: str, args: tuple[Any, ...]) -> NoReturn:
        detail = _describe(args)
        report(event, detail)
        raise PermissionError(f"strategy host: {event} {detail} is refused to strategy code")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in refused_events or event.startswith(refused_prefixes):
            refuse(event, args)
        if event == "import" and args and isinstance(args[0], str) and not may_import(args[0]):
            refuse(event, args[:1])

    def refusing(name: str) -> Callable[..., NoReturn]:
        def refused(*args: Any, **kwargs: Any) -> NoReturn:
            refuse(name, args)

        return refused

    _patch_unaudited(refusing)
    builtins.__import__ = guarded_import(builtins.__import__, lambda n: report("import", repr(n)))
    sys.addaudithook(hook)


def _patch_unaudited(refusing: Callable[[str], Callable[..., NoReturn]]) -> None:
    """Thread starts, os._exit and os.abort raise no audit event in 3.11: replace them."""
    import _thread
    import posix

    start = refusing("_thread.start_new_thread")
    for module, names in (
        (_thread, ("start_new_thread", "start_new")),
        (threading, ("_start_new_thread",)),
    ):
        for name in names:
            if hasattr(module, name):
                setattr(module, name, start)
    for module in (os, posix):
        setattr(module, "_exit", refusing("os._exit"))  # noqa: B010 (posix is untyped here)
        setattr(module, "abort", refusing("os.abort"))  # noqa: B010


def threads_alive() -> int:
    """Threads other than the host's own main thread."""
    return threading.active_count() - 1


def _json_string() -> Callable[[str], str]:
    from json.encoder import encode_basestring_ascii as c_encode  # C, not patchable via json

    return c_encode


def _describe(args: tuple[Any, ...], depth: int = 0) -> str:
    """A short text of audit arguments, touching only builtin types (no strategy __repr__)."""
    parts = []
    for arg in args[:4]:
        if type(arg) in (str, bytes, int, float, bool) or arg is None:
            parts.append(repr(arg)[:120])
        elif type(arg) is tuple and depth < 2:
            parts.append(f"({_describe(arg, depth + 1)})")
        else:
            parts.append(f"<{type(arg).__name__}>")
    return ", ".join(parts)
