"""ControlService on the Redis plane (a real redis-server) and on the file plane (Redis down)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from control.commands import Refused, UsageError
from control.service import ControlService
from state_store.audit import read_jsonl, read_stream
from state_store.desired import DesiredState, read_control_file
from state_store.desired_redis import read_redis
from state_store.keys import Keys
from state_store.settings import Settings

COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("pause", {}),
    ("config_set", {"values": {"alpha": {"size": "8"}}}),
    ("reload", {"module": "alpha"}),
    ("reload", {}),
    ("flatten", {}),
    ("kill", {}),
    ("resume", {}),
]
EXPECTED = DesiredState(
    version=7,
    paused=False,
    killed=False,
    config={"alpha": {"size": 8}},
    reload_seq=2,
    reload_module="",
    flatten_seq=2,
)


def redis_state(settings: Settings) -> DesiredState | None:
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    try:
        return read_redis(client, Keys(settings.bot)).state
    finally:
        client.close()


def stream(settings: Settings) -> list[Any]:
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    try:
        return read_stream(client, Keys(settings.bot), 1000)
    finally:
        client.close()


def same_wishes(a: DesiredState | None, b: DesiredState) -> bool:
    ignore = {"updated_at", "updated_by", "change_id"}
    return a is not None and a.model_dump(exclude=ignore) == b.model_dump(exclude=ignore)


def test_every_command_on_the_redis_plane(service: ControlService, settings: Settings) -> None:
    for i, (command, args) in enumerate(COMMANDS, start=1):
        result = service.apply(command, args, actor="alice")
        assert result.plane == "redis"
        assert result.state.version == i and result.old_version == i - 1
        assert f"(version {i}, written to redis + control.json)" in result.message
        assert result.state.updated_by == "alice" and result.state.updated_at > 0
        assert redis_state(settings) == result.state == read_control_file(settings.control_file)
    assert same_wishes(redis_state(settings), EXPECTED)
    for entries in (stream(settings), read_jsonl(settings.audit_file)):
        assert [(e.command, e.old_version, e.new_version) for e in entries] == [
            (c, i - 1, i) for i, (c, _) in enumerate(COMMANDS, start=1)
        ]
        assert {e.plane for e in entries} == {"redis"} and {e.who for e in entries} == {"alice"}
    assert stream(settings)[1].args == {"values": {"alpha": {"size": 8}}}  # typed, as applied
    assert stream(settings)[-1].change_id == redis_state(settings).change_id  # type: ignore[union-attr]


def test_every_command_on_the_file_plane(
    down_service: ControlService, down_settings: Settings
) -> None:
    for i, (command, args) in enumerate(COMMANDS, start=1):
        result = down_service.apply(command, args, actor="bob")
        assert result.plane == "file"
        assert result.state.version == i
        assert f"(version {i}). Redis unreachable: wrote control.json only" in result.message
        assert read_control_file(down_settings.control_file) == result.state
    assert same_wishes(read_control_file(down_settings.control_file), EXPECTED)
    entries = read_jsonl(down_settings.audit_file)
    assert [(e.command, e.new_version, e.plane, e.who) for e in entries] == [
        (c, i, "file", "bob") for i, (c, _) in enumerate(COMMANDS, start=1)
    ]


def test_first_file_plane_command_warns_that_control_json_was_absent(
    down_service: ControlService,
) -> None:
    result = down_service.apply("pause")
    assert any("absent: starting from the default state" in w for w in result.warnings)
    assert not down_service.apply("resume").warnings


def test_actor_defaults_to_the_unix_user(service: ControlService) -> None:
    import getpass

    assert service.apply("pause").state.updated_by == getpass.getuser()


@pytest.mark.parametrize("plane", ["redis", "down"])
def test_refused_commands_change_nothing(
    plane: str, service: ControlService, down_service: ControlService
) -> None:
    svc = service if plane == "redis" else down_service
    svc.apply("pause")
    with pytest.raises(Refused, match=r"alpha\.size: expected an int"):
        svc.apply("config_set", {"values": {"alpha": {"size": "x"}}})
    with pytest.raises(Refused, match="unknown strategy"):
        svc.apply("config_set", {"values": {"zeta": {"size": "1"}}})
    with pytest.raises(Refused, match="no module"):
        svc.apply("reload", {"module": "zeta"})
    with pytest.raises(UsageError):
        svc.apply("launch", {})
    with pytest.raises(UsageError):
        svc.apply("kill", {"now": True})
    state, _, _ = svc.desired()
    assert state.version == 1
    assert len(read_jsonl(svc.settings.audit_file)) == 1


def test_config_values_from_json_are_typed(service: ControlService) -> None:
    """The HTTP API passes JSON values: an int is fine for a float, a str is parsed."""
    result = service.apply("config_set", {"values": {"alpha": {"edge": 1, "size": "9"}}})
    assert result.state.config == {"alpha": {"edge": 1.0, "size": 9}}
    assert isinstance(result.state.config["alpha"]["edge"], float)


def test_config_get(service: ControlService) -> None:
    service.apply("config_set", {"values": {"alpha": {"size": "9"}}})
    report = service.config_get()
    assert report.version == 1 and report.plane == "redis"
    alpha = report.strategies["alpha"]
    assert alpha.defaults["size"] == 5 and alpha.overrides == {"size": 9}
    assert alpha.effective == {"size": 9, "edge": 0.04, "enabled": True, "mode": "late"}
    assert report.strategies["beta"].overrides == {}
    assert list(service.config_get("beta").strategies) == ["beta"]
    with pytest.raises(Refused, match="unknown strategy 'gamma'"):
        service.config_get("gamma")


def test_config_get_with_redis_down(down_service: ControlService) -> None:
    down_service.apply("config_set", {"values": {"beta": {"limit": "4"}}})
    report = down_service.config_get("beta")
    assert report.plane == "file"
    assert report.strategies["beta"].effective == {"limit": 4}


def test_redis_plane_never_writes_an_older_state_over_a_newer_file(
    service: ControlService, settings: Settings
) -> None:
    """Mirroring happens under the lock and only moves control.json forward."""
    service.apply("pause")
    newer = DesiredState(version=50, paused=True, config={"beta": {"limit": 1}})
    settings.control_file.write_text(json.dumps(newer.to_file()))
    result = service.apply("resume")  # converges first: the file's 50 wins, then 51
    assert result.state.version == 51 and result.state.config == {"beta": {"limit": 1}}
    assert read_control_file(settings.control_file) == result.state == redis_state(settings)


def test_versions_stay_above_audit_high_water_when_control_json_is_deleted(
    down_service: ControlService, down_settings: Settings
) -> None:
    """Runners never step back to a lower version: a new file must not restart at 1."""
    for _ in range(3):
        down_service.apply("flatten")
    down_settings.control_file.unlink()
    assert down_service.apply("pause").state.version == 4


def test_status_with_redis_up(service: ControlService, settings: Settings) -> None:
    service.apply("pause")
    status = service.status()
    assert status.plane == "redis"
    assert status.control.version == 1 and status.control.paused is True
    assert status.control.in_sync is True
    assert status.positions == [] and status.pending_orders == []
    assert [e.command for e in status.audit] == ["pause"]
    assert json.loads(status.model_dump_json())["control"]["entries_allowed"] is False


def test_status_with_redis_down(down_service: ControlService) -> None:
    down_service.apply("kill")
    status = down_service.status()
    assert status.plane == "file" and status.positions is None
    assert status.control.killed is True and status.control.version == 1
    assert "does not answer" in status.redis_problem
    assert [e.command for e in status.audit] == ["kill"]


def test_redis_probe_is_fast_and_unretried(down_service: ControlService) -> None:
    """A dead Redis is detected by one PING without the client's retries."""
    assert down_service.client() is None
    assert "does not answer" in down_service.redis_problem


def test_result_json(service: ControlService) -> None:
    data = service.apply("pause").to_json()
    assert data["plane"] == "redis" and data["version"] == 1 and data["state"]["paused"] is True


def test_redis_failing_mid_command_falls_back_to_the_file(
    service: ControlService, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.apply("pause")

    def broken(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("connection reset by peer")

    monkeypatch.setattr("control.service.write_redis", broken)
    result = service.apply("resume")
    assert result.plane == "file" and result.state.version == 2
    assert any("Redis failed during the command" in w for w in result.warnings)
    assert read_control_file(settings.control_file) == result.state
    monkeypatch.undo()
    assert service.apply("kill").state.version == 3  # converged: the file's 2 reached Redis
    assert redis_state(settings).version == 3  # type: ignore[union-attr]


def test_a_stuck_control_lock_is_a_clear_refusal(
    service: ControlService, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from state_store.files import lock_for

    monkeypatch.setattr("state_store.files.LOCK_TIMEOUT_S", 0.1)
    settings.home.mkdir(parents=True, exist_ok=True)
    with lock_for(settings.control_file), pytest.raises(Refused, match="held by another process"):
        service.apply("pause")
