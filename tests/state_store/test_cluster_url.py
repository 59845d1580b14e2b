"""`redis+cluster://` URLs and the jobs Redis: parsing and refusals (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.cli_errors import OperatorError, one_line_errors
from runner import jobs
from runner.build import build_runtime
from runner.runtime import RunnerConfig
from state_store.connection import (
    ClusterTarget,
    JobsRedisMissing,
    check_jobs_redis_url,
    check_redis_url,
    is_cluster_url,
    mask_url,
    parse_cluster_url,
)
from state_store.settings import ENV_JOBS_REDIS_URL, Settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis+cluster://n1:7000", ClusterTarget(nodes=(("n1", 7000),))),
        (
            "redis+cluster://n1:7000,n2,[::1]:7002/0",
            ClusterTarget(nodes=(("n1", 7000), ("n2", 6379), ("::1", 7002))),
        ),
        (
            "redis+cluster://alice:p%40ss@n1:7000/",
            ClusterTarget(nodes=(("n1", 7000),), username="alice", password="p@ss"),
        ),
    ],
)
def test_parse_cluster_url(url: str, expected: ClusterTarget) -> None:
    assert parse_cluster_url(url) == expected
    check_redis_url(url)  # accepted wherever a Redis URL is taken
    assert is_cluster_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+cluster://n1:7000/1", "only database 0"),
        ("redis+cluster://n1:7000/0/x", "only database 0"),
        ("redis+cluster://n1:port", "port must be a number"),
        ("redis+cluster://n1:70000", "out of range"),
        ("redis+cluster://n1,,n2", "empty cluster host"),
        ("redis+cluster://n1?ssl=true", "takes no options"),
        ("redis://n1:7000", "not a redis\\+cluster"),
    ],
)
def test_bad_cluster_urls_are_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cluster_url(url)


def test_a_cluster_url_password_is_masked() -> None:
    assert mask_url("redis+cluster://u:secret@n1:1,n2:2/0") == "redis+cluster://u:***@n1:1,n2:2/0"


def test_the_jobs_redis_cannot_be_a_cluster() -> None:
    check_jobs_redis_url(None)
    check_jobs_redis_url("redis://127.0.0.1:6400/0")
    check_jobs_redis_url("redis+sentinel://s1:26379/jobs")
    with pytest.raises(ValueError, match="not a Cluster"):
        check_jobs_redis_url("redis+cluster://n1:7000")
    with pytest.raises(ValueError, match="unsupported"):
        check_jobs_redis_url("http://n1")


def test_jobs_go_to_the_jobs_redis_and_a_cluster_bot_needs_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_JOBS_REDIS_URL, raising=False)
    cluster = "redis+cluster://127.0.0.1:1"
    alone = Settings.resolve(home=str(tmp_path), redis_url=cluster)
    assert alone.jobs_redis_url is None
    with pytest.raises(JobsRedisMissing, match="--jobs-redis-url"):
        jobs.rq_connection(alone)
    monkeypatch.setenv(ENV_JOBS_REDIS_URL, "redis://127.0.0.1:2/0")
    paired = Settings.resolve(home=str(tmp_path), redis_url=cluster)
    assert paired.jobs_redis_url == "redis://127.0.0.1:2/0"
    conn = jobs.rq_connection(paired)  # no I/O yet: the client is lazy
    try:
        assert conn.connection_pool.connection_kwargs["port"] == 2
    finally:
        conn.close()


def test_a_runner_or_worker_on_a_cluster_without_jobs_redis_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_JOBS_REDIS_URL, raising=False)
    settings = Settings.resolve(home=str(tmp_path), redis_url="redis+cluster://127.0.0.1:1")
    with pytest.raises(JobsRedisMissing):
        build_runtime(settings, RunnerConfig("r1"))  # refused before anything is opened
    with pytest.raises(OperatorError, match="--jobs-redis-url"), one_line_errors():
        jobs.rq_connection(settings)
