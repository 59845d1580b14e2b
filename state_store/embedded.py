"""The embedded Redis: one `redis-server` per home, on a unix socket, started on first use.

When no Redis URL is configured, every process of a home shares one real
redis-server that lives in `<home>/redis/`:

- it listens only on `<home>/redis/redis.sock` (no TCP port, socket mode 0700);
- AOF on (`appendfsync everysec`); data, `redis.pid` and `redis.log` in `<home>/redis/`;
- its config is written to `<home>/redis/redis.conf` on every start, for the operator.

`ensure_embedded_redis` is idempotent and safe from many processes at once: a
socket that answers PING is reused without locking; otherwise the decision to
start is taken under `<home>/redis/launch.lock`, so only one process starts a
server and the others wait for it and reuse it. The server is a daemon: it
outlives the process that launched it, and stops only on SHUTDOWN (or a signal).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import filelock
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from state_store.redis_binary import find_redis_server

logger = logging.getLogger(__name__)

# sizeof(sockaddr_un.sun_path) minus the terminating NUL: 108 on Linux, 104 on macOS/BSD.
MAX_SOCKET_PATH_BYTES = 103 if sys.platform == "darwin" else 107
START_TIMEOUT = 60.0  # replaying a large AOF can take a while
STOP_TIMEOUT = 10.0
PIDFILE_GRACE = 5.0  # a started daemon writes its pidfile within milliseconds
PROBE_TIMEOUT = 1.0
POLL_INTERVAL = 0.02


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not be started, reached or stopped; the message says what to do."""


class _State(Enum):
    READY = "ready"  # answers commands
    LOADING = "loading"  # alive, replaying the AOF
    DOWN = "down"  # nothing answers on the socket


@dataclass(frozen=True)
class EmbeddedPaths:
    """The files of one home's embedded Redis, all in `<home>/redis/`."""

    directory: Path
    socket: Path
    pidfile: Path
    logfile: Path
    config: Path
    lock: Path


def embedded_paths(home: Path) -> EmbeddedPaths:
    d = Path(home).expanduser().absolute() / "redis"
    names = ("redis.sock", "redis.pid", "redis.log", "redis.conf", "launch.lock")
    return EmbeddedPaths(d, *(d / name for name in names))


def embedded_socket_path(home: Path) -> Path:
    """Where the embedded Redis of `home` listens (whether or not it runs)."""
    return embedded_paths(home).socket


def embedded_running(home: Path) -> bool:
    """True when the embedded Redis of `home` answers on its socket (starts nothing)."""
    return _probe(embedded_paths(home).socket) is _State.READY


def ensure_embedded_redis(home: Path, timeout: float = START_TIMEOUT) -> Path:
    """Start the embedded Redis of `home` unless it already runs; return its socket path."""
    paths = embedded_paths(home)
    _check_socket_path(paths.socket)
    if _probe(paths.socket) is _State.READY:
        return paths.socket
    deadline = time.monotonic() + timeout
    with _launch_lock(paths, timeout):
        state = _probe(paths.socket)
        if state is _State.READY:
            return paths.socket
        pid = _live_server_pid(paths)
        if (pid is not None or state is _State.LOADING) and _await_server(paths, pid, deadline):
            return paths.socket
        _clear_stale(paths)
        _start_daemon(paths)
        if not _await_server(paths, None, deadline):
            raise EmbeddedRedisError(
                f"embedded redis for {paths.directory} exited during start-up; "
                f"last log lines:\n{_log_tail(paths)}"
            )
    logger.warning(
        "started the embedded redis of %s (pid %s, socket %s); it keeps running after this "
        "process: `neverblink redis stop --home %s` stops it",
        paths.directory.parent, _read_pid(paths.pidfile), paths.socket, paths.directory.parent,
    )  # fmt: skip
    return paths.socket


def stop_embedded_redis(home: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """SHUTDOWN the embedded Redis of `home` and wait for it to exit; False if none ran."""
    paths = embedded_paths(home)
    if not paths.directory.is_dir():
        return False
    with _launch_lock(paths, timeout):
        pid = _live_server_pid(paths)
        answering = _probe(paths.socket) is not _State.DOWN
        if pid is None and not answering:
            return False
        if answering:
            _send_shutdown(paths.socket, timeout)
        elif pid is not None:
            logger.warning("embedded redis pid %d does not answer; sending SIGTERM", pid)
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while (pid is not None and _pid_alive(pid)) or _probe(paths.socket) is not _State.DOWN:
            if time.monotonic() > deadline:
                raise EmbeddedRedisError(
                    f"embedded redis (pid {pid}) at {paths.socket} still runs after {timeout}s"
                )
            time.sleep(POLL_INTERVAL)
    logger.info("embedded redis at %s stopped", paths.socket)
    return True


def run_embedded_redis_foreground(home: Path, timeout: float = START_TIMEOUT) -> int:
    """Run the embedded Redis of `home` as a child until it exits; return its exit code.

    Same config as the daemon, except `daemonize no` and the log goes to stdout
    (what systemd, a Procfile or a terminal expect). Refuses if one already runs.
    KeyboardInterrupt (Ctrl-C; the CLI maps SIGTERM/SIGHUP to it too) stops redis
    cleanly with SIGTERM: it fsyncs the AOF and exits 0.
    """
    paths = embedded_paths(home)
    _check_socket_path(paths.socket)
    with _launch_lock(paths, timeout):  # held until ready: nobody starts a second server
        proc = _spawn_foreground(paths)
        try:
            if _await_server(paths, proc.pid, time.monotonic() + timeout):
                logger.info("embedded redis (pid %d) ready at %s", proc.pid, paths.socket)
        except KeyboardInterrupt:
            return _stop_child(proc)
        except BaseException:
            _stop_child(proc)
            raise
    try:
        return _exit_code(proc.wait())
    except KeyboardInterrupt:
        return _stop_child(proc)


# -- start-up ----------------------------------------------------------------


def render_config(paths: EmbeddedPaths, *, daemonize: bool) -> str:
    """The redis.conf of the embedded Redis, commented for the operator who opens it."""
    q = _quote
    return "\n".join(
        [
            "# Generated by neverblink each time the embedded Redis of this home starts;",
            "# edits here are overwritten. For other settings run your own Redis and",
            "# point --redis-url / NEVERBLINK_REDIS_URL at it.",
            "",
            "# Unix socket only: no TCP port, socket readable by this user only.",
            "port 0",
            f"unixsocket {q(paths.socket)}",
            "unixsocketperm 700",
            "",
            f"daemonize {'yes' if daemonize else 'no'}",
            f"pidfile {q(paths.pidfile)}",
            f"logfile {q(paths.logfile) if daemonize else q('')}",
            "loglevel notice",
            "",
            "# Durability: every write goes to the append-only file, fsync'd every second.",
            f"dir {q(paths.directory)}",
            "appendonly yes",
            "appendfsync everysec",
            'appendfilename "appendonly.aof"',
            "# No RDB snapshots: the AOF is the record.",
            'save ""',
            "",
        ]
    )


def _spawn_foreground(paths: EmbeddedPaths) -> subprocess.Popen[bytes]:
    """Start redis as our child (called under the launch lock), unless one runs."""
    pid = _live_server_pid(paths)
    if pid is not None or _probe(paths.socket) is not _State.DOWN:
        raise EmbeddedRedisError(
            f"the embedded redis of this home already runs (pid {pid}, socket "
            f"{paths.socket}); stop it first: redis-cli -s {paths.socket} shutdown"
        )
    _clear_stale(paths)
    _write_config(paths, daemonize=False)
    # Own session: a terminal's Ctrl-C reaches us only, and we stop redis exactly once.
    return subprocess.Popen(
        [find_redis_server(), str(paths.config)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop_child(proc: subprocess.Popen[bytes]) -> int:
    logger.info("stopping embedded redis (pid %d)", proc.pid)
    proc.terminate()  # SIGTERM: redis fsyncs the AOF, removes socket and pidfile, exits 0
    return _exit_code(proc.wait())


def _start_daemon(paths: EmbeddedPaths) -> None:
    _write_config(paths, daemonize=True)
    binary = find_redis_server()
    logger.info("starting embedded redis %s with %s", binary, paths.config)
    # With `daemonize yes` the command returns once redis has forked into the background;
    # config errors are printed before that, errors after it go to redis.log.
    command = [binary, str(paths.config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise EmbeddedRedisError(
            f"{binary} refused to start (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()}\nconfig: {paths.config}"
        )


def _write_config(paths: EmbeddedPaths, *, daemonize: bool) -> None:
    paths.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = paths.config.with_suffix(".conf.tmp")
    tmp.write_text(render_config(paths, daemonize=daemonize))
    tmp.replace(paths.config)


def _await_server(paths: EmbeddedPaths, pid: int | None, deadline: float) -> bool:
    """Wait until the socket answers commands (True) or the server process is gone (False).

    `pid` None means "just launched": read it from the pidfile once redis writes it.
    """
    since = time.monotonic()
    while time.monotonic() < deadline:
        state = _probe(paths.socket)
        if state is _State.READY:
            return True
        if state is _State.DOWN:
            pid = pid or _read_pid(paths.pidfile)
            if pid is None and time.monotonic() - since > PIDFILE_GRACE:
                return False
            if pid is not None and not _pid_alive(pid):
                return False
        time.sleep(POLL_INTERVAL)
    raise EmbeddedRedisError(
        f"embedded redis (pid {pid}) at {paths.socket} did not become ready in time; "
        f"see {paths.logfile}. Last log lines:\n{_log_tail(paths)}"
    )


def _clear_stale(paths: EmbeddedPaths) -> None:
    """Remove the socket and pidfile a dead server left behind (called under the lock)."""
    for leftover in (paths.socket, paths.pidfile):
        if leftover.exists() or leftover.is_symlink():
            logger.warning("removing stale %s of a dead embedded redis", leftover)
            leftover.unlink(missing_ok=True)


# -- probing and small helpers -------------------------------------------------


def _probe(socket_path: Path, timeout: float = PROBE_TIMEOUT) -> _State:
    """PING the socket once, without retries."""
    if not socket_path.exists():
        return _State.DOWN
    client = _probe_client(socket_path, timeout)
    try:
        client.ping()
    except redis.BusyLoadingError:  # a subclass of ConnectionError: test it first
        return _State.LOADING
    except redis.ResponseError:
        return _State.READY  # it answers; the caller's own client will report the error
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return _State.DOWN
    finally:
        client.close()
    return _State.READY


def _probe_client(socket_path: Path, timeout: float) -> redis.Redis:
    # redis.Redis() retries 10 times by default; a probe must answer at once.
    return redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _send_shutdown(socket_path: Path, timeout: float) -> None:
    client = _probe_client(socket_path, timeout)
    try:
        client.shutdown()  # returns once the server closed the connection
    except redis.ConnectionError:
        pass  # it went away on its own meanwhile
    except redis.RedisError as exc:
        raise EmbeddedRedisError(
            f"SHUTDOWN of embedded redis at {socket_path} failed: {exc}"
        ) from exc
    finally:
        client.close()


def _live_server_pid(paths: EmbeddedPaths) -> int | None:
    """The pid in redis.pid if that process is alive and is this home's redis-server."""
    pid = _read_pid(paths.pidfile)
    if pid is None or not _pid_alive(pid):
        return None
    proc = Path("/proc", str(pid))
    if not proc.is_dir():  # no procfs: trust the pidfile
        return pid
    try:
        is_redis = "redis" in (proc / "comm").read_text()
        # redis-server chdir()s into its `dir`: tells a reused pid from our server.
        same_home = os.path.samefile(proc / "cwd", paths.directory)
    except PermissionError:
        return pid
    except OSError:
        return None
    return pid if is_redis and same_home else None


def _read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


def _pid_alive(pid: int) -> bool:
    """True if `pid` runs; a zombie (killed, not yet reaped by init) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path("/proc", str(pid), "stat").read_text()
    except OSError:
        return True  # no procfs (macOS): os.kill said it exists
    return stat.rpartition(")")[2].split()[0] != "Z"


def _check_socket_path(socket_path: Path) -> None:
    length = len(os.fsencode(socket_path))
    if length > MAX_SOCKET_PATH_BYTES:
        raise EmbeddedRedisError(
            f"the embedded redis socket path {socket_path} is {length} bytes long, but unix "
            f"socket paths are limited to {MAX_SOCKET_PATH_BYTES} bytes. Use a shorter --home "
            f"(NEVERBLINK_HOME), e.g. ~/.neverblink, or set --redis-url to an external Redis."
        )


@contextmanager
def _launch_lock(paths: EmbeddedPaths, timeout: float) -> Iterator[None]:
    """Hold `<home>/redis/launch.lock`: one process at a time starts or stops the server."""
    paths.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = filelock.FileLock(paths.lock, timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise EmbeddedRedisError(
            f"waited {timeout}s for {paths.lock}: another process is starting or stopping "
            "the embedded redis of this home"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _quote(value: object) -> str:
    """A redis.conf string literal: double quotes, backslash and quote escaped."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _log_tail(paths: EmbeddedPaths, lines: int = 15) -> str:
    try:
        return "\n".join(paths.logfile.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {paths.logfile})"


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N: 128 + N
