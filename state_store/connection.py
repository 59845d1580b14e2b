"""The one place every process gets its Redis client.

`connect(settings)` returns a client for `settings.redis_url` (`redis://`,
`rediss://`, `unix://`, `redis+sentinel://` or `redis+cluster://`), or, when no
URL is set, for the embedded Redis of the home, started on first use (see
`state_store.embedded`).

A `redis+cluster://` URL gives a redis-py `RedisCluster`, typed as `redis.Redis`
for the callers: it routes every command by its key's slot. Every key of bot B
carries the hash tag `{B}`, so each Lua transition and each MULTI of the store
touches one slot; pipelines without a transaction may span slots (redis-py
splits them per node). rq cannot run on a Cluster: its jobs go to the separate
Redis named by `Settings.jobs_redis_url` (`runner.jobs`).

Every client is configured the same way, on purpose:

- Retries: redis-py's `Redis.from_url` does not retry by default (its
  connections get `Retry(NoBackoff(), 0)`), while the plain `Redis(...)`
  constructor retries 10 times. We choose one policy for all targets: up to 3
  retries with exponential backoff and jitter, on ConnectionError and
  TimeoutError only. A Sentinel failover or a Redis restart is then a short
  stall rather than a failed tick.
- A retried command may be executed twice: the first attempt can reach Redis
  and only the reply be lost. That is safe here because every state
  transition is an idempotent Lua script (client order ids, fill ids, fencing
  tokens, version compare-and-set); plain reads are harmless to repeat. Do
  not add a non-idempotent write (INCR outside a script, XADD without an id
  check, ...) without thinking about this.
- Timeouts: a few seconds to connect and to read a reply, so a dead Redis is
  noticed within a tick or two instead of hanging on TCP. Callers of blocking
  commands (XREAD BLOCK, BLMOVE) pass a longer `socket_timeout`.
- `health_check_interval`: a connection idle for longer is PINGed before use,
  so a connection silently dropped by a proxy or failover fails here, where it
  is retried, and not half-way through a command.
- A Cluster client is built eagerly (it reads the slot map from a seed):
  `connect` raises redis.ConnectionError when no seed node answers, where a
  plain client would fail only on first use.
- On a Cluster, redis-py retries at the cluster level instead (our `Retry`
  sets the count and backoff; a ConnectionError, TimeoutError or
  ClusterDownError re-reads the slot map and tries again); per-node retry
  options and `health_check_interval` are not passed to the nodes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from redis.sentinel import Sentinel

from state_store.embedded import embedded_socket_path, ensure_embedded_redis
from state_store.settings import Settings

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT = 5.0  # seconds to wait for a reply
CONNECT_TIMEOUT = 3.0  # seconds to establish a connection
RETRIES = 3
BACKOFF_BASE = 0.05  # first retry after up to 0.1 s ...
BACKOFF_CAP = 1.0  # ... never more than 1 s between tries
HEALTH_CHECK_INTERVAL = 15  # seconds idle before a connection is PINGed on checkout
AVAILABLE_TIMEOUT = 0.5
SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_DEFAULT_PORT = 26379
CLUSTER_SCHEME = "redis+cluster"
CLUSTER_DEFAULT_PORT = 6379
#: what `_client_options` sets that a Cluster client also takes (the rest is per node)
CLUSTER_OPTIONS = ("decode_responses", "client_name", "socket_timeout", "socket_connect_timeout")
DIRECT_SCHEMES = ("redis", "rediss", "unix")
MASK = "***"


@dataclass(frozen=True)
class SentinelTarget:
    """A parsed `redis+sentinel://[user:pass@]host:port[,host:port...]/<service>[/<db>]` URL.

    The user and password are those of the Redis master. Sentinels that require
    their own password take `?sentinel_password=...` (and `sentinel_username`).
    """

    sentinels: tuple[tuple[str, int], ...]
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None


@dataclass(frozen=True)
class ClusterTarget:
    """A parsed `redis+cluster://[user:pass@]host:port[,host:port...][/0]` URL: seed nodes.

    Any one live seed is enough: the client reads the slot map from it and
    finds the other masters. A Cluster has only database 0.
    """

    nodes: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = None


def connect(
    settings: Settings,
    *,
    decode_responses: bool = True,
    client_name: str | None = None,
    socket_timeout: float = SOCKET_TIMEOUT,
    start_embedded: bool = True,
) -> redis.Redis:
    """A client for the Redis of `settings`, starting the embedded Redis if none is configured.

    `start_embedded=False` (reading and control commands): a client for the embedded
    Redis's socket whether or not it runs; it fails on use while nothing listens.
    """
    options = _client_options(decode_responses, client_name, socket_timeout)
    url = settings.redis_url
    if not url:
        if start_embedded:
            socket_path = ensure_embedded_redis(settings.home)
        else:
            socket_path = embedded_socket_path(settings.home)
        return redis.Redis(unix_socket_path=str(socket_path), **options)
    check_redis_url(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme == SENTINEL_SCHEME:
        return _connect_sentinel(parse_sentinel_url(url), options)
    if scheme == CLUSTER_SCHEME:
        return _connect_cluster(parse_cluster_url(url), options)
    return redis.Redis.from_url(url, **options)


def is_cluster_url(url: str | None) -> bool:
    """Whether `url` names a Redis Cluster (rq cannot use it)."""
    return bool(url) and urlsplit(url or "").scheme.lower() == CLUSTER_SCHEME


def describe_target(settings: Settings) -> str:
    """Where the Redis of `settings` is, for messages (passwords masked)."""
    if not settings.redis_url:
        return f"embedded redis at {embedded_socket_path(settings.home)}"
    return mask_url(settings.redis_url)


def has_replicas(url: str | None) -> bool:
    """Whether `url` names a topology with replicas a failover promotes (Sentinel)."""
    return bool(url) and urlsplit(str(url)).scheme.lower() == SENTINEL_SCHEME


def check_redis_url(url: str | None) -> None:
    """Raise ValueError naming the problem when `url` cannot be a Redis URL (None: embedded)."""
    if not url:
        return
    scheme = urlsplit(url).scheme.lower()
    if scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)
    elif scheme == CLUSTER_SCHEME:
        parse_cluster_url(url)
    elif scheme not in DIRECT_SCHEMES:
        raise ValueError(
            f"unsupported Redis URL scheme {scheme!r} in {mask_url(url)}: use redis://, "
            "rediss://, unix://, redis+sentinel:// or redis+cluster://"
        )
    else:
        try:
            parse_url(url)  # type: ignore[no-untyped-call]
        except ValueError as exc:
            raise ValueError(f"{mask_url(url)}: {exc}") from None


class JobsRedisMissing(ValueError):
    """The bot's Redis is a Cluster and no separate jobs Redis is configured."""


def jobs_redis_url(settings: Settings) -> str | None:
    """The URL of the rq job queue's Redis: the jobs Redis, else the bot's (None: embedded).

    Raises JobsRedisMissing when that would be a Cluster (rq's keys and scripts span slots).
    """
    url = settings.jobs_redis_url or settings.redis_url
    if is_cluster_url(url):
        raise JobsRedisMissing(
            "rq cannot keep its job queue on a Redis Cluster: give the jobs a plain Redis "
            "with --jobs-redis-url or $NEVERBLINK_JOBS_REDIS_URL"
        )
    return url


def is_cluster_client(client: object) -> bool:
    """Whether `client` is a Redis Cluster client (what `connect` gives for redis+cluster://)."""
    return isinstance(client, RedisCluster)


def check_jobs_redis_url(url: str | None) -> None:
    """Raise ValueError when `url` cannot hold the rq queue (None: the bot's Redis)."""
    if is_cluster_url(url):
        raise ValueError(
            f"{mask_url(url or '')}: the job queue (rq) needs a plain Redis or a Sentinel URL, "
            "not a Cluster"
        )
    check_redis_url(url)


def redis_available(client: redis.Redis, timeout: float = AVAILABLE_TIMEOUT) -> bool:
    """PING over a fresh connection with a short timeout and no retries; never raises.

    A fresh connection (same target and credentials as `client`) keeps the
    client's pool and timeouts untouched and cannot pick up a half-read socket.
    """
    pool = _pool_of(client)
    kwargs = dict(pool.connection_kwargs)
    kwargs.update(
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        retry_on_error=[],
        health_check_interval=0,
    )
    try:
        connection = pool.connection_class(**kwargs)
        try:
            connection.send_command("PING")
            return bool(connection.read_response())
        finally:
            connection.disconnect()
    except Exception as exc:  # the contract is "never raises": any failure means "not available"
        logger.debug("redis not available: %s", exc)
        return False


def parse_sentinel_url(url: str) -> SentinelTarget:
    """Parse a `redis+sentinel://` URL; raise ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme.lower() != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL: {mask_url(url)}")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username, password = _split_userinfo(userinfo)
    sentinels = tuple(_parse_host(item, url) for item in hostlist.split(","))
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise ValueError(
            f"{mask_url(url)}: expected /<service_name>[/<db>] after the sentinel hosts"
        )
    db = _parse_int(path[1], "db", url) if len(path) == 2 else 0
    query = _parse_sentinel_query(parts.query, url)
    return SentinelTarget(
        sentinels=sentinels,
        service_name=path[0],
        db=db,
        username=username,
        password=password,
        sentinel_username=query.get("sentinel_username"),
        sentinel_password=query.get("sentinel_password"),
    )


def parse_cluster_url(url: str) -> ClusterTarget:
    """Parse a `redis+cluster://` URL; raise ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme.lower() != CLUSTER_SCHEME:
        raise ValueError(f"not a {CLUSTER_SCHEME}:// URL: {mask_url(url)}")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username, password = _split_userinfo(userinfo)
    nodes = tuple(
        _parse_host(item, url, CLUSTER_DEFAULT_PORT, "cluster") for item in hostlist.split(",")
    )
    path = [unquote(p) for p in parts.path.split("/") if p]
    if len(path) > 1 or (path and _parse_int(path[0], "db", url) != 0):
        raise ValueError(f"{mask_url(url)}: a Redis Cluster has only database 0")
    if parts.query:
        raise ValueError(f"{mask_url(url)}: a {CLUSTER_SCHEME}:// URL takes no options")
    return ClusterTarget(nodes=nodes, username=username, password=password)


def mask_url(url: str) -> str:
    """`url` with the password in the user info and in the query string replaced by ***."""
    parts = urlsplit(url)
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    if ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":" + MASK
    query = "&".join(
        f"{key}={MASK}" if "password" in key.lower() else f"{key}={value}"
        for key, _, value in (item.partition("=") for item in parts.query.split("&") if item)
    )
    # built by hand: urlunsplit would turn unix:///path into unix:/path
    masked = f"{parts.scheme}://{userinfo}{at}{hostlist}{parts.path}"
    return masked + (f"?{query}" if query else "")


# -- internals -----------------------------------------------------------------


def _client_options(
    decode_responses: bool, client_name: str | None, socket_timeout: float
) -> dict[str, Any]:
    return {
        "decode_responses": decode_responses,
        "client_name": client_name,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        # Resending is safe because state transitions are idempotent Lua (module docstring).
        "retry": Retry(ExponentialWithJitterBackoff(cap=BACKOFF_CAP, base=BACKOFF_BASE), RETRIES),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": HEALTH_CHECK_INTERVAL,
    }


def _connect_sentinel(target: SentinelTarget, options: dict[str, Any]) -> redis.Redis:
    # Sentinels are asked one after the other: a dead one must fail fast, without retries,
    # so the next one is tried (redis.Redis() would otherwise retry it 10 times).
    sentinel_kwargs: dict[str, Any] = {
        "socket_timeout": CONNECT_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
        "username": target.sentinel_username,
        "password": target.sentinel_password,
    }
    # redis.sentinel has no annotations (redis-py 8); the result is a plain redis.Redis.
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels), sentinel_kwargs=sentinel_kwargs
    )
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        target.service_name,
        db=target.db,
        username=target.username,
        password=target.password,
        **options,
    )
    return client


def _connect_cluster(target: ClusterTarget, options: dict[str, Any]) -> redis.Redis:
    kept = {key: options[key] for key in CLUSTER_OPTIONS}
    try:
        client = RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in target.nodes],  # type: ignore[no-untyped-call]
            username=target.username,
            password=target.password,
            retry=options["retry"],
            **kept,
        )
    except RedisClusterException as exc:  # no seed answered: "Redis unavailable", as elsewhere
        raise RedisConnectionError(f"redis cluster: {exc}") from exc
    # RedisCluster is no redis.Redis subclass but answers the same commands, scripts and
    # pipelines by key (tests/state_store/test_cluster.py runs the store and runners on one).
    return cast(redis.Redis, client)


def _pool_of(client: redis.Redis) -> Any:
    """The connection pool to copy for a fresh connection (a Cluster: its default node's)."""
    if isinstance(client, RedisCluster):
        node = client.get_default_node()
        if node is None or node.redis_connection is None:
            raise RuntimeError("the cluster client knows no node")
        return node.redis_connection.connection_pool
    return client.connection_pool


def _split_userinfo(userinfo: str) -> tuple[str | None, str | None]:
    if not userinfo:
        return None, None
    user, colon, password = userinfo.partition(":")
    return (unquote(user) or None), (unquote(password) if colon else None)


def _parse_host(
    item: str, url: str, default_port: int = SENTINEL_DEFAULT_PORT, what: str = "sentinel"
) -> tuple[str, int]:
    item = item.strip()
    if item.startswith("["):  # [ipv6]:port
        host, _, rest = item[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = item.partition(":")
    if not host:
        raise ValueError(f"{mask_url(url)}: empty {what} host in {item!r}")
    port = _parse_int(port_text, "port", url) if port_text else default_port
    if not 0 < port < 65536:
        raise ValueError(f"{mask_url(url)}: {what} port {port} out of range")
    return host, port


def _parse_int(text: str, what: str, url: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{mask_url(url)}: {what} must be a number, not {text!r}") from None


def _parse_sentinel_query(query: str, url: str) -> dict[str, str]:
    known = {"sentinel_username", "sentinel_password"}
    parsed = {key: values[-1] for key, values in parse_qs(query, strict_parsing=False).items()}
    unknown = set(parsed) - known
    if unknown:
        raise ValueError(
            f"{mask_url(url)}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"supported: {', '.join(sorted(known))}"
        )
    return parsed
