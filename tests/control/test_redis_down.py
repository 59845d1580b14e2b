"""A real redis-server killed mid-test, commands on the file plane, convergence when it returns."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import redis

from control.service import ControlService
from runner.control_read import read_desired
from runner.runtime import Runtime
from state_store.audit import read_jsonl, read_stream
from state_store.converge import converge, converge_report
from state_store.desired import DesiredState, read_control_file
from state_store.desired_redis import read_redis, write_redis
from state_store.keys import Keys
from state_store.private_redis import RedisProcess
from state_store.settings import Settings

DOWN_COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("config_set", {"values": {"alpha": {"size": "11"}}}),
    ("reload", {"module": "_helper"}),
    ("flatten", {}),
    ("kill", {}),
]


@pytest.fixture
def home(make_settings: Callable[..., Settings], own_redis: RedisProcess) -> Settings:
    return make_settings(own_redis.url)


@pytest.fixture
def client(own_redis: RedisProcess) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(own_redis.url, decode_responses=True)
    yield c
    c.close()


def restart(proc: RedisProcess) -> RedisProcess:
    return RedisProcess(proc.directory, port=proc.port, appendonly=proc.appendonly).start()


def runner_view(settings: Settings, client: redis.Redis | None = None) -> Any:
    """The few Runtime fields runner/control_read.read_desired uses."""
    keys = Keys(settings.bot)
    return SimpleNamespace(
        settings=settings,
        client=client,
        store=SimpleNamespace(keys=keys),
        config=SimpleNamespace(replica="r1"),
        reloader=SimpleNamespace(current=None),  # no strategies loaded: no PARAMS to check
        control_error="",
        last_desired=None,
        paused=False,
    )


def test_kill_redis_mid_test_then_converge_on_restart(
    home: Settings, own_redis: RedisProcess, client: redis.Redis
) -> None:
    service = ControlService(home)
    assert service.apply("pause", actor="ann").plane == "redis"
    rt = runner_view(home, client)
    assert read_desired(cast(Runtime, rt)).version == 1

    own_redis.kill()
    for i, (command, args) in enumerate(DOWN_COMMANDS, start=2):
        result = service.apply(command, args, actor="ann")
        assert result.plane == "file", result.message
        assert result.state.version == i
        assert "Redis unreachable: wrote control.json only" in result.message
    # a runner with Redis down obeys control.json at its next tick
    in_force = read_desired(cast(Runtime, rt), redis_up=False)
    assert in_force.version == 5 and in_force.killed and in_force.config == {"alpha": {"size": 11}}
    status = service.status()
    assert status.plane == "file" and status.control.version == 5

    restarted = restart(own_redis)  # no AOF: Redis comes back empty
    try:
        report = converge_report(client, home)
        assert report.action == "file->redis"
        assert read_redis(client, Keys(home.bot)).state == read_control_file(home.control_file)
        entries = read_stream(client, Keys(home.bot), 100)
        # the changes made while Redis was down reach the stream (the pause was lost with Redis)
        assert [(e.command, e.new_version, e.plane) for e in entries] == [
            (c, i, "file") for i, (c, _) in enumerate(DOWN_COMMANDS, start=2)
        ]
        result = service.apply("resume", actor="ann")
        assert result.plane == "redis" and result.state.version == 6
        assert not result.state.killed and result.state.config == {"alpha": {"size": 11}}
        assert read_desired(cast(Runtime, rt)).version == 6
        assert [e.new_version for e in read_jsonl(home.audit_file)] == [1, 2, 3, 4, 5, 6]
    finally:
        restarted.stop()
        service.close()


def test_redis_with_aof_keeps_its_older_state_and_the_file_wins(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    proc = RedisProcess(tmp_path / "aof", appendonly=True).start()
    settings = make_settings(proc.url)
    service = ControlService(settings)
    client = redis.Redis.from_url(proc.url, decode_responses=True)
    try:
        service.apply("pause")
        client.config_set("appendfsync", "always")  # deterministic AOF
        service.apply("flatten")
        proc.kill()
        assert service.apply("config_set", {"values": {"beta": {"limit": "9"}}}).plane == "file"
        proc = restart(proc)
        assert read_redis(client, Keys(settings.bot)).state.version == 2  # type: ignore[union-attr]
        state = converge(client, settings)
        assert state.version == 3 and state.config == {"beta": {"limit": 9}}
        assert read_redis(client, Keys(settings.bot)).state == state
        versions = [e.new_version for e in read_stream(client, Keys(settings.bot), 100)]
        assert versions == [1, 2, 3]  # no duplicate, no gap
    finally:
        client.close()
        service.close()
        proc.stop()


def test_redis_newer_than_the_file_rewrites_the_file(
    settings: Settings, service: ControlService, real_redis: redis.Redis
) -> None:
    """Another host wrote Redis: this home's control.json follows."""
    service.apply("pause")
    other = DesiredState(version=9, paused=False, config={"beta": {"limit": 2}}, change_id="x")
    assert write_redis(real_redis, Keys(settings.bot), other, [], "newer").outcome == "ok"
    report = converge_report(real_redis, settings)
    assert report.action == "redis->file"
    assert read_control_file(settings.control_file) == other


def test_converge_does_nothing_when_both_agree(
    settings: Settings, service: ControlService, real_redis: redis.Redis
) -> None:
    service.apply("pause")
    before = settings.control_file.stat().st_mtime_ns
    report = converge_report(real_redis, settings)
    assert report.action == "none" and report.state.version == 1
    assert settings.control_file.stat().st_mtime_ns == before


def test_converge_with_nothing_anywhere(settings: Settings, real_redis: redis.Redis) -> None:
    assert converge(real_redis, settings) == DesiredState()
    assert not settings.control_file.exists()


def test_hand_edit_that_bumps_the_version_wins_and_is_audited(
    settings: Settings, service: ControlService, real_redis: redis.Redis
) -> None:
    service.apply("pause")
    data = json.loads(settings.control_file.read_text())
    data.update(version=10, paused=False, updated_by="vim")
    settings.control_file.write_text(json.dumps(data))
    state = converge(real_redis, settings)
    assert state.version == 10 and not state.paused
    assert read_redis(real_redis, Keys(settings.bot)).state == state
    last = read_stream(real_redis, Keys(settings.bot), 10)[-1]
    assert (last.command, last.old_version, last.new_version, last.who) == (
        "hand_edit",
        1,
        10,
        "vim",
    )
    assert read_jsonl(settings.audit_file)[-1].command == "hand_edit"
    assert service.apply("kill").state.version == 11


def test_hand_edit_without_a_version_bump_loses_with_a_warning(
    settings: Settings, service: ControlService, real_redis: redis.Redis
) -> None:
    service.apply("pause")
    data = json.loads(settings.control_file.read_text())
    data["paused"] = False
    settings.control_file.write_text(json.dumps(data))
    report = converge_report(real_redis, settings)
    assert report.action == "redis->file" and report.state.paused
    assert "must bump version" in report.warnings[0]
    assert read_control_file(settings.control_file).paused  # type: ignore[union-attr]


BROKEN = [b'{"version": 3, "paused": tru', b"\x00\xff garbage", b'{"version": "7"}', b"[]"]


@pytest.mark.parametrize("broken", BROKEN)
def test_invalid_file_with_redis_up_is_set_aside_and_rewritten_with_a_warning(
    broken: bytes, settings: Settings, service: ControlService, real_redis: redis.Redis
) -> None:
    service.apply("pause")
    settings.control_file.write_bytes(broken)
    # runners converge every tick: they report the broken file and leave it alone
    report = converge_report(real_redis, settings)
    assert report.file_error and report.state.version == 1
    assert settings.control_file.read_bytes() == broken
    # a control command replaces it, keeps a copy and says so
    result = service.apply("resume")
    assert result.plane == "redis" and result.state.version == 2
    warning = next(w for w in result.warnings if "rejected-" in w)
    assert "rewrote control.json from Redis (version 1)" in warning
    aside = sorted(settings.home.glob("control.json.rejected-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == broken
    assert read_control_file(settings.control_file) == result.state


@pytest.mark.parametrize("broken", BROKEN)
def test_invalid_file_with_redis_down_is_refused_and_left_alone(
    broken: bytes, down_settings: Settings, down_service: ControlService
) -> None:
    from control.commands import Refused

    down_service.apply("pause")
    down_settings.control_file.write_bytes(broken)
    with pytest.raises(Refused) as info:
        down_service.apply("resume")
    message = str(info.value)
    assert "control.json" in message and "Redis is unreachable" in message
    assert "nothing was written" in message and "Fix control.json" in message
    assert down_settings.control_file.read_bytes() == broken
    assert len(read_jsonl(down_settings.audit_file)) == 1
    # a runner keeps the last valid state and reports the error
    rt = runner_view(down_settings)
    rt.last_desired = DesiredState(version=1, paused=True)
    assert read_desired(cast(Runtime, rt), redis_up=False).version == 1
    assert rt.control_error and rt.paused
