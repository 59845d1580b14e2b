"""The embedded Redis: started on first use, shared by every process of a home, durable."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from control.cli import main
from state_store.connection import connect
from state_store.embedded import (
    EmbeddedRedisError,
    embedded_paths,
    embedded_socket_path,
    ensure_embedded_redis,
    run_embedded_redis_foreground,
    stop_embedded_redis,
)
from state_store.redis_binary import find_redis_server
from state_store.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def live_servers_of(home: Path) -> list[int]:
    """Pids of running (not zombie) redis-servers whose working dir is `<home>/redis`."""
    directory = embedded_paths(home).directory
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if "redis" not in (proc / "comm").read_text():
                continue
            if (proc / "stat").read_text().rpartition(")")[2].split()[0] == "Z":
                continue
            if os.path.samefile(proc / "cwd", directory):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def server_pid(home: Path) -> int:
    return int(embedded_paths(home).pidfile.read_text())


def wait_dead(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            return
        if state == "Z":  # killed; our init does not reap orphans, the process is gone anyway
            return
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} still alive")


def kill_server(home: Path) -> int:
    pid = server_pid(home)
    os.kill(pid, signal.SIGKILL)
    wait_dead(pid)
    return pid


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A home of its own; whatever embedded Redis the test started is stopped afterwards."""
    home = tmp_path / "h"
    yield home
    stop_embedded_redis(home)
    assert live_servers_of(home) == []


def skip_without_procfs() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to find server processes")


def test_first_use_starts_a_server_and_second_reuses_it(home: Path) -> None:
    skip_without_procfs()
    sock = ensure_embedded_redis(home)
    assert sock == embedded_socket_path(home) == home / "redis" / "redis.sock"
    pid = server_pid(home)
    assert ensure_embedded_redis(home) == sock
    assert server_pid(home) == pid
    assert live_servers_of(home) == [pid]
    paths = embedded_paths(home)
    config = paths.config.read_text()
    for line in ("port 0", "unixsocketperm 700", "appendonly yes", "appendfsync everysec"):
        assert line in config.splitlines()
    assert oct(sock.stat().st_mode & 0o777) == oct(0o700)
    assert paths.logfile.exists()


def test_redis_cli_reaches_the_socket(home: Path) -> None:
    sock = ensure_embedded_redis(home)
    beside = Path(find_redis_server()).with_name("redis-cli")
    cli = str(beside) if beside.exists() else shutil.which("redis-cli")
    if cli is None:
        pytest.skip("no redis-cli next to redis-server or on PATH")
    done = subprocess.run(
        [cli, "-s", str(sock), "PING"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "PONG"


ENSURE_IN_CHILD = """
import sys, time
from pathlib import Path
import redis
from state_store.embedded import ensure_embedded_redis
home, go = Path(sys.argv[1]), Path(sys.argv[2])
Path(sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.001)
sock = ensure_embedded_redis(home)
client = redis.Redis(unix_socket_path=str(sock))
print(client.info("server")["process_id"])
client.close()
"""


def test_eight_processes_at_once_share_one_server(home: Path, tmp_path: Path) -> None:
    skip_without_procfs()
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{i}" for i in range(8)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", ENSURE_IN_CHILD, str(home), str(go), str(flag)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 30
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # release all eight at once
    outputs = [child.communicate(timeout=60)[0].strip() for child in children]
    assert [child.returncode for child in children] == [0] * 8
    assert len(set(outputs)) == 1
    assert live_servers_of(home) == [int(outputs[0])] == [server_pid(home)]
    log = embedded_paths(home).logfile.read_text().lower()
    assert log.count("ready to accept connections") == 1  # no second server ever started


def test_acknowledged_writes_survive_sigkill(home: Path) -> None:
    settings = Settings(home=home, redis_url=None, bot="t", strategies=home)
    client = connect(settings)
    keys = [f"nb:{{t}}:k{i}" for i in range(2000)]
    for i, key in enumerate(keys):
        assert client.set(key, str(i)) is True
    client.close()
    # appendfsync everysec fsyncs once a second, but Redis write()s the AOF buffer to the
    # file before it sends the replies of that event-loop turn, so an acknowledged write
    # is in the kernel's page cache when the client sees "OK". A killed process loses
    # nothing acknowledged; only a crash of the OS (or power) can lose the last second.
    # (Caveat: if a background fsync is still running after a second or more, a very
    # slow disk, Redis postpones that write() by up to two seconds while replying.)
    old_pid = kill_server(home)
    client = connect(settings)
    assert server_pid(home) != old_pid
    assert client.mget(keys) == [str(i) for i in range(len(keys))]
    client.close()


def test_stale_socket_and_pidfile_of_a_killed_server_are_recovered(home: Path) -> None:
    sock = ensure_embedded_redis(home)
    old_pid = kill_server(home)
    paths = embedded_paths(home)
    assert sock.exists() and paths.pidfile.exists()  # SIGKILL leaves both behind
    assert ensure_embedded_redis(home) == sock
    assert server_pid(home) != old_pid
    assert redis.Redis(unix_socket_path=str(sock)).ping()


# the id names this process's pid, not its number: each xdist worker collects the same ids
@pytest.mark.parametrize(
    "pid_text", [pytest.param(str(os.getpid()), id="this-pid"), "not a pid", ""]
)
def test_pidfile_of_another_process_is_not_mistaken_for_the_server(
    home: Path, pid_text: str
) -> None:
    paths = embedded_paths(home)
    paths.directory.mkdir(parents=True)
    paths.pidfile.write_text(pid_text)  # e.g. the dead server's pid, reused by this process
    paths.socket.write_text("")  # a leftover socket file that nothing listens on
    started = time.monotonic()
    ensure_embedded_redis(home)
    assert time.monotonic() - started < 10
    assert server_pid(home) != os.getpid()


def test_too_long_socket_path_fails_with_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / ("x" * 120)
    with pytest.raises(EmbeddedRedisError, match=r"limited to \d+ bytes.*shorter --home"):
        ensure_embedded_redis(home)
    assert not home.exists()
    settings = Settings(home=home, redis_url=None, bot="t", strategies=tmp_path)
    with pytest.raises(EmbeddedRedisError, match="shorter --home"):
        connect(settings)


class LoadingThenReady:
    """A fake server on the home's socket: PING gets -LOADING for a while, then +PONG.

    Like a real Redis replaying its AOF, it answers the connection handshake
    (HELLO, CLIENT SETINFO) meanwhile.
    """

    def __init__(self, path: Path, loading_for: float) -> None:
        self.until = time.monotonic() + loading_for
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _reply(self, command: bytes) -> bytes:
        if command == b"HELLO":
            return b"%1\r\n$5\r\nproto\r\n:3\r\n"
        if command == b"PING" and time.monotonic() < self.until:
            return b"-LOADING Redis is loading the dataset in memory\r\n"
        return b"+PONG\r\n" if command == b"PING" else b"+OK\r\n"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    lines = data.split(b"\r\n")
                    # each command is "*<n>", "$<len>", "<name>", ...: the name follows "*"
                    names = [lines[i + 2].upper() for i, x in enumerate(lines) if x[:1] == b"*"]
                    conn.sendall(b"".join(self._reply(name) for name in names))

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in the thread
        self.listener.close()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


def test_waits_while_the_server_replays_its_aof(home: Path) -> None:
    paths = embedded_paths(home)
    paths.directory.mkdir(parents=True)
    fake = LoadingThenReady(paths.socket, loading_for=0.5)
    try:
        started = time.monotonic()
        assert ensure_embedded_redis(home) == paths.socket
        assert time.monotonic() - started >= 0.4
        assert not paths.pidfile.exists()  # it waited: no second server was started
    finally:
        fake.close()


def test_foreground_refuses_when_the_daemon_runs(home: Path) -> None:
    ensure_embedded_redis(home)
    with pytest.raises(EmbeddedRedisError, match="already runs"):
        run_embedded_redis_foreground(home)


def test_foreground_command_runs_until_sigterm(home: Path) -> None:
    skip_without_procfs()
    cli = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from control.cli import main; main()",
            "redis",
            "--home",
            str(home),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not live_servers_of(home) and time.monotonic() < deadline:
            time.sleep(0.02)
        ensure_embedded_redis(home)  # other processes of the home use the foreground server
        [pid] = live_servers_of(home)
        assert pid == server_pid(home)
        assert Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1] == str(cli.pid)
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=20) == 0
        wait_dead(pid)
        assert not embedded_socket_path(home).exists()
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()


def test_redis_command_help_and_external_url() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["redis", "--help"])
    assert result.exit_code == 0
    assert "foreground" in result.output
    result = runner.invoke(main, ["redis", "--redis-url", "redis://u:secret@127.0.0.1:1/0"])
    assert result.exit_code == 2
    assert "external Redis is configured" in result.output
    assert "secret" not in result.output
