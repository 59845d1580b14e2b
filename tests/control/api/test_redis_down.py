"""Redis down: reads answer from status.json / control.json and say so; writes: control.json."""

from __future__ import annotations

from collections.abc import Callable

import redis
from starlette.testclient import TestClient

from state_store.desired import read_control_file
from state_store.private_redis import RedisProcess
from state_store.settings import Settings
from state_store.status import write_status_file
from tests.control.api.conftest import AUTH, AppFactory
from tests.control.api.helpers import GEN_A, beat, manifest, publish_history, runner_section


def test_redis_killed_mid_run_reads_fall_back_to_the_files(
    make_app: AppFactory, make_settings: Callable[..., Settings], own_redis: RedisProcess
) -> None:
    settings = make_settings(own_redis.url)
    client_r = redis.Redis.from_url(own_redis.url, decode_responses=True)
    publish_history(client_r, settings.bot)
    beat(client_r, settings.bot, "r1", tick=5)
    client_r.close()
    reloads = [manifest("live", GEN_A, "r1", 3), manifest("promoted", GEN_A, "r1", 23)]
    write_status_file(settings.status_file, "r1", runner_section("r1", 30, paused=True), reloads)
    with TestClient(make_app(settings)) as client:
        assert client.post("/api/pause", headers=AUTH).json()["plane"] == "redis"
        own_redis.kill()

        status = client.get("/api/status").json()
        assert status["plane"] == "file"
        assert "status.json" in status["note"] and "does not answer" in status["note"]
        assert status["control"]["paused"] is True and status["control"]["version"] == 1
        assert [(r["replica"], r["tick"]) for r in status["runners"]] == [("r1", 30)]
        assert status["positions"] is None and status["pending_orders"] is None

        resumed = client.post("/api/resume", headers=AUTH).json()
        assert resumed["plane"] == "file"
        assert "Redis unreachable: wrote control.json only" in resumed["message"]
        assert "control.json" in resumed["note"]
        on_file = read_control_file(settings.control_file)
        assert on_file is not None and on_file.version == 2 and not on_file.paused

        history = client.get("/api/reloads").json()
        assert history["plane"] == "file" and "status.json" in history["note"]
        assert [e["kind"] for e in history["entries"]] == ["live", "promoted"]
        assert history["generations"][0]["outcome"] == "ok"

        state = client.get("/api/state").json()
        assert state["plane"] == "file" and state["windows"] is None and state["note"]

        config = client.get("/api/config").json()
        assert config["plane"] == "file" and config["version"] == 2 and config["note"]

        assert client.get("/healthz").json()["redis"] is False
        assert "neverblink_redis_up 0.0" in client.get("/metrics").text


def test_redis_never_reachable_still_answers_every_route(down_client: TestClient) -> None:
    for path in ("/api/status", "/api/config", "/api/reloads", "/api/state", "/metrics"):
        response = down_client.get(path)
        assert response.status_code == 200, (path, response.text)
    paused = down_client.post("/api/pause", headers=AUTH).json()
    assert paused["plane"] == "file"
    assert any("absent: starting from the default state" in w for w in paused["warnings"])
    assert down_client.get("/api/status").json()["control"]["paused"] is True


def test_a_broken_control_json_with_redis_down_is_refused_clearly(
    down_client: TestClient, down_settings: Settings
) -> None:
    down_settings.home.mkdir(parents=True, exist_ok=True)
    down_settings.control_file.write_text('{"version": "one"}')
    response = down_client.post("/api/pause", headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"] == "refused"
    assert "Fix control.json" in response.json()["detail"]
