"""Every route with Redis up: thin calls into ControlService, answers the CLI would give."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from state_store.desired import read_control_file
from state_store.keys import Keys
from state_store.settings import Settings
from state_store.status import heartbeat
from tests.control.api.conftest import AUTH
from tests.control.api.helpers import (
    GEN_A,
    GEN_B,
    beat,
    publish_history,
    runner_section,
    trade,
)


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/api/pause", "paused", True),
        ("/api/resume", "paused", False),
        ("/api/flatten", "flatten_seq", 1),
        ("/api/kill", "killed", True),
    ],
)
def test_commands_change_desired_state_on_both_planes(
    client: TestClient, settings: Settings, path: str, field: str, value: Any
) -> None:
    response = client.post(path, headers={**AUTH, "X-Neverblink-Actor": "alice"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plane"] == "redis"
    assert body["version"] == 1 and body["old_version"] == 0
    assert body["state"][field] == value
    assert body["state"]["updated_by"] == "api:alice"
    assert "written to redis + control.json" in body["message"]
    on_file = read_control_file(settings.control_file)
    assert on_file is not None and on_file.version == 1


def test_pause_shows_in_status_and_audit(client: TestClient) -> None:
    client.post("/api/pause", headers=AUTH)
    status = client.get("/api/status").json()
    assert status["plane"] == "redis"
    assert status["control"]["paused"] is True
    assert status["control"]["entries_allowed"] is False
    assert status["control"]["in_sync"] is True
    assert [e["command"] for e in status["audit"]] == ["pause"]
    assert status["audit"][0]["who"] == "api"


def test_reload_all_or_one_module(client: TestClient) -> None:
    everything = client.post("/api/reload", headers=AUTH)
    one = client.post("/api/reload", headers=AUTH, json={"module": "alpha"})
    assert everything.status_code == 200 and one.status_code == 200
    assert everything.json()["state"]["reload_seq"] == 1
    assert one.json()["state"] == {**one.json()["state"], "reload_seq": 2, "reload_module": "alpha"}


def test_reload_of_an_unknown_module_is_refused(client: TestClient) -> None:
    response = client.post("/api/reload", headers=AUTH, json={"module": "nope"})
    assert response.status_code == 422
    assert response.json()["error"] == "refused"
    assert "no module 'nope'" in response.json()["detail"]


def test_config_get_all_and_one(client: TestClient) -> None:
    everything = client.get("/api/config").json()
    assert set(everything["strategies"]) == {"alpha", "beta"}
    one = client.get("/api/config", params={"strategy": "alpha"}).json()
    assert one["strategies"]["alpha"]["defaults"]["size"] == 5
    assert one["plane"] == "redis"


def test_config_of_an_unknown_strategy_is_404(client: TestClient) -> None:
    response = client.get("/api/config", params={"strategy": "gamma"})
    assert response.status_code == 404
    assert "unknown strategy 'gamma'" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"strategy": "alpha", "key": "size", "value": "8"},
        {"strategy": "alpha", "key": "size", "value": 8},
        {"values": {"alpha": {"size": 8}}},
    ],
)
def test_config_patch_types_values_like_their_default(
    client: TestClient, body: dict[str, Any]
) -> None:
    response = client.patch("/api/config", headers=AUTH, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["state"]["config"] == {"alpha": {"size": 8}}
    effective = client.get("/api/config", params={"strategy": "alpha"}).json()
    assert effective["strategies"]["alpha"]["effective"]["size"] == 8


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"strategy": "alpha", "key": "size", "value": "lots"}, "refused"),
        ({"strategy": "alpha", "key": "nope", "value": 1}, "refused"),
        ({"strategy": "gamma", "key": "size", "value": 1}, "refused"),
        ({"strategy": "alpha", "key": "size"}, "invalid request"),
        ({"values": {"alpha": {}}}, "invalid request"),
        ({"values": {"alpha": {"size": 1}}, "strategy": "alpha"}, "invalid request"),
        ({"strategy": "alpha", "key": "size", "value": 1, "extra": 1}, "invalid request"),
        ({"strategy": "../etc", "key": "size", "value": 1}, "invalid request"),
        ({"strategy": "alpha", "key": "size", "value": [1]}, "invalid request"),
    ],
)
def test_bad_config_patch_is_422_and_changes_nothing(
    client: TestClient, body: dict[str, Any], error: str
) -> None:
    response = client.patch("/api/config", headers=AUTH, json=body)
    assert response.status_code == 422
    assert response.json()["error"] == error
    assert response.json()["detail"]
    assert client.get("/api/status").json()["control"]["version"] == 0


def test_status_lists_runners_from_their_heartbeats(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    beat(real_redis, settings.bot, "r1", tick=7, paused=True)
    beat(real_redis, settings.bot, "r2", tick=9)
    runners = {r["replica"]: r for r in client.get("/api/status").json()["runners"]}
    assert runners["r1"]["tick"] == 7 and runners["r1"]["paused"] is True
    assert runners["r2"]["alive"] is True and runners["r2"]["generation"] == GEN_A
    assert runners["r2"]["git_sha"] == "0123abc"
    assert runners["r2"]["books"]["market_stream"] == "connected"  # where its books came from
    assert (runners["r2"]["books"]["stream"], runners["r2"]["books"]["rest"]) == (3, 1)


def test_reloads_are_grouped_by_generation(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    publish_history(real_redis, settings.bot)
    report = client.get("/api/reloads").json()
    assert report["plane"] == "redis"
    assert len(report["entries"]) == 6 and all("id" in e for e in report["entries"])
    newest, oldest = report["generations"]
    assert newest["generation"] == GEN_B and newest["outcome"] == "rolled_back"
    assert newest["error"] == "alpha: raised ValueError"
    assert [s["kind"] for s in newest["replicas"]["r1"]["history"]] == ["live", "rolled_back"]
    assert oldest["generation"] == GEN_A and oldest["outcome"] == "ok"
    assert {r: v["tick"] for r, v in oldest["replicas"].items()} == {"r1": 20, "r2": 21}
    assert len(client.get("/api/reloads", params={"limit": 2}).json()["entries"]) == 2


def test_state_shows_windows_with_positions_orders_and_pnl(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    coid = trade(real_redis, settings.bot)
    state = client.get("/api/state").json()
    assert state["plane"] == "redis"
    (window,) = state["windows"]
    assert window["market"] == "btc-updown-5m-100"
    assert 0 < window["time_left_s"] <= 240
    assert window["position"]["up_shares"] == "4"
    assert [o["client_order_id"] for o in window["pending_orders"]] == [coid]
    assert window["pending_orders"][0]["filled"] == "4"
    assert state["pnl"]["fills"] == 1 and state["pnl"]["open_positions"] == 1
    assert state["pnl"]["open_cash"] == "-2.2"
    assert (window["start_price"], window["strike_source"]) == ("95000", "venue")
    assert state["unconfirmed_fills"] == 0  # the venue did not say: not unconfirmed


def test_time_left_is_on_the_venue_clock_the_runners_read(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    """A venue 6 h ahead running 10x (the demo after a while): time left is venue time."""
    trade(real_redis, settings.bot)  # a window ending 240 s after the wall clock's now
    assert client.get("/api/state").json()["venue_time"] is None  # no runner read it yet
    now = time.time()
    clock = {"venue_time": now - 100, "wall_time": now - 10, "rate": 10.0}
    section = runner_section("r1", 5).model_copy(update={"venue_clock": clock})
    heartbeat(real_redis, Keys(settings.bot), "r1", section, 10_000)
    state = client.get("/api/state").json()
    # carried forward: (now - 100) + 10 s x 10 = now (+ the request's own few ms x 10)
    assert now <= state["venue_time"] < now + 5 and state["venue_rate"] == 10.0
    assert 235 < state["windows"][0]["time_left_s"] <= 240
    clock = {"venue_time": now + 6 * 3600, "wall_time": now, "rate": 10.0}
    section = section.model_copy(update={"venue_clock": clock})
    heartbeat(real_redis, Keys(settings.bot), "r1", section, 10_000)
    assert client.get("/api/state").json()["windows"][0]["time_left_s"] == 0  # long over


def test_healthz_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {
        "ok": True,
        "bot": "b1",
        "redis": True,
        "private_reads": False,
    }
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/api/status", "get"), ("/api/pause", "post"), ("/api/resume", "post"),
        ("/api/reload", "post"), ("/api/config", "get"), ("/api/config", "patch"),
        ("/api/reloads", "get"), ("/api/state", "get"), ("/api/flatten", "post"),
        ("/api/kill", "post"), ("/api/events", "get"), ("/metrics", "get"),
    ]:  # fmt: skip
        assert method in paths[path], (path, method)
    assert paths["/api/pause"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in paths["/api/status"]["get"]


def test_dashboard_files_are_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "Mission Control" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/../control/service.py").status_code == 404
    assert client.get("/static/service.py").status_code == 404
