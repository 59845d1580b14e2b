"""Private Redis topologies on loopback for tests and benchmarks: Sentinel and Cluster.

Every process is a real `redis-server` on a free port (never 6379), with its
data under one folder, stopped by `stop()`:

- `SentinelGroup`: a master, replicas and three sentinels (`redis-server
  --sentinel`) watching it as service `neverblink`; `url` is the
  `redis+sentinel://` URL clients use. `kill_master()` SIGKILLs the current
  master; `wait_failover()` waits until the sentinels name another one;
  `cut_replica_links()` makes the replicas lag (a partition) while the master
  goes on acknowledging writes.
- `ClusterGroup`: N masters with `--cluster-enabled yes`, joined by
  `redis-cli --cluster create`; `url` is a `redis+cluster://` seed URL.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from state_store.private_redis import RedisProcess, free_port
from state_store.redis_binary import find_redis_server

SERVICE = "neverblink"
#: a (re)started replica syncs at once: no 5 s wait for more replicas to share the transfer
SYNC_ARGS = ("--repl-diskless-sync-delay", "0")
CUT_PASSWORD = "link-cut"  # a password the master does not have, on purpose


class SentinelProcess:
    """One `redis-server --sentinel` watching `master_port` as service SERVICE."""

    def __init__(self, directory: Path, master_port: int, down_after_ms: int) -> None:
        self.directory = directory
        self.port = free_port()
        self.master_port = master_port
        self.down_after_ms = down_after_ms
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SentinelProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "sentinel.conf"
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"logfile {self.directory / 'sentinel.log'}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.master_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}\n"
            f"sentinel failover-timeout {SERVICE} {max(self.down_after_ms * 4, 2000)}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        args = [find_redis_server(), str(conf), "--sentinel"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ping(self.port)
        return self

    def master_port_now(self) -> int | None:
        client = redis.Redis(port=self.port, socket_timeout=1, decode_responses=True)
        try:
            found = client.execute_command(  # type: ignore[no-untyped-call]
                "SENTINEL", "get-master-addr-by-name", SERVICE
            )
            return int(found[1]) if found else None
        except redis.RedisError:
            return None
        finally:
            client.close()

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None


class SentinelGroup:
    """A master, `replicas` replicas and three sentinels, all on loopback."""

    def __init__(self, directory: Path, replicas: int = 1, down_after_ms: int = 1000) -> None:
        self.directory = directory
        self.down_after_ms = down_after_ms
        self.servers: dict[int, RedisProcess] = {}
        self.replica_count = replicas
        self.sentinels: list[SentinelProcess] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def start(self) -> SentinelGroup:
        master = RedisProcess(self.directory / "master", appendonly=True)
        master.extra_args = list(SYNC_ARGS)
        self.servers[master.start().port] = master
        for i in range(self.replica_count):
            replica = RedisProcess(self.directory / f"replica{i}", appendonly=True)
            replica.extra_args = [*SYNC_ARGS, "--replicaof", "127.0.0.1", str(master.port)]
            self.servers[replica.start().port] = replica
        for i in range(3):
            sentinel = SentinelProcess(
                self.directory / f"sentinel{i}", master.port, self.down_after_ms
            )
            self.sentinels.append(sentinel.start())
        self.wait_replicas_in_sync()
        return self

    def master_port(self) -> int:
        for sentinel in self.sentinels:
            port = sentinel.master_port_now()
            if port is not None:
                return port
        raise RuntimeError("no sentinel answers")

    def wait_replicas_in_sync(self, timeout: float = 20.0) -> None:
        """Until the master reports every live replica online (it then accepts WAIT)."""
        deadline = time.monotonic() + timeout
        want = sum(1 for s in self.servers.values() if s.proc is not None) - 1
        while time.monotonic() < deadline:
            info = _info(self.master_port(), "replication")
            online = sum(
                1
                for k, v in info.items()
                if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"
            )
            if online >= want:
                return
            time.sleep(0.05)
        raise RuntimeError("replicas did not come in sync")

    def kill_master(self) -> int:
        """SIGKILL the current master; returns its port."""
        port = self.master_port()
        self.servers[port].kill()
        return port

    def wait_failover(self, old_port: int, timeout: float = 30.0) -> int:
        """Until the sentinels name a new master that answers; returns its port. The
        sentinels learn of it one after the other (their hello messages): with
        `all_agree()` a caller can wait until none names the old master any more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                port = self.master_port()
            except RuntimeError:
                port = old_port
            if port != old_port and _info(port, "replication").get("role") == "master":
                return port
            time.sleep(0.05)
        raise RuntimeError("no failover within the timeout")

    def all_agree(self, port: int) -> bool:
        """Every sentinel names `port` as the master."""
        return all(s.master_port_now() == port for s in self.sentinels)

    def replica_ports(self) -> list[int]:
        """Ports of the running servers that are replicas now."""
        running = [p for p, s in self.servers.items() if s.proc is not None]
        return [p for p in running if _info(p, "replication").get("role") == "slave"]

    def cut_replica_links(self) -> list[int]:
        """Cut every replica's link to the master, as a partition would: its master
        connection is killed and its reconnections fail (a wrong masterauth, which the
        master refuses), so the master goes on acknowledging writes no replica gets.
        Returns the replicas' ports (for `restore_replica_links`)."""
        ports = self.replica_ports()
        for port in ports:
            client = redis.Redis(port=port, socket_timeout=2)
            try:
                client.config_set("masterauth", CUT_PASSWORD)
                client.client_kill_filter(_type="master")
            finally:
                client.close()
        return ports

    def restore_replica_links(self, ports: list[int]) -> None:
        """Undo `cut_replica_links` on the servers still running."""
        for port in ports:
            if self.servers[port].proc is None:
                continue
            client = redis.Redis(port=port, socket_timeout=2)
            try:
                client.config_set("masterauth", "")
            finally:
                client.close()

    def restart_as_replica(self, port: int) -> None:
        """Bring a killed server back as a replica of the current master."""
        server = self.servers[port]
        server.extra_args = [*SYNC_ARGS, "--replicaof", "127.0.0.1", str(self.master_port())]
        server.start()

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        for server in self.servers.values():
            server.stop()


class ClusterGroup:
    """`masters` cluster-enabled redis-servers joined into one Cluster (no replicas)."""

    def __init__(self, directory: Path, masters: int = 3) -> None:
        self.directory = directory
        self.servers = [
            RedisProcess(directory / f"node{i}", port=free_cluster_port()) for i in range(masters)
        ]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.servers)
        return f"redis+cluster://{hosts}/0"

    def start(self) -> ClusterGroup:
        for server in self.servers:
            conf = server.directory / "nodes.conf"
            server.extra_args = [
                "--cluster-enabled", "yes", "--cluster-config-file", str(conf),
                "--cluster-node-timeout", "2000",
            ]  # fmt: skip
            server.start()
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli is needed to create a Cluster")
        hosts = [f"127.0.0.1:{s.port}" for s in self.servers]
        subprocess.run(
            [cli, "--cluster", "create", *hosts, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self._wait_ok()
        return self

    def _wait_ok(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [_cluster_state(s.port) for s in self.servers]
            if all(state == "ok" for state in states):
                return
            time.sleep(0.1)
        raise RuntimeError("the cluster did not reach state ok")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def free_cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too (so at most 55535)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 55535)
        if port != 6379 and _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _info(port: int, section: str) -> dict[str, object]:
    client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
    try:
        return dict(client.info(section))
    except redis.RedisError:
        return {}
    finally:
        client.close()


def _cluster_state(port: int) -> str:
    client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
    try:
        info = client.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
        text = info if isinstance(info, str) else str(info)
        for line in text.splitlines():
            if line.startswith("cluster_state:"):
                return line.split(":", 1)[1].strip()
        return ""
    except redis.RedisError:
        return ""
    finally:
        client.close()


def _wait_ping(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    try:
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError(f"redis process on port {port} did not start")
    finally:
        client.close()


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
