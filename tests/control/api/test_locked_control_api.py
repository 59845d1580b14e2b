"""Control can never be locked (issue 13, cases 4 and 6): the HTTP API answers 4xx, never 500."""

from __future__ import annotations

import redis
from starlette.testclient import TestClient

from state_store.desired import MAX_VERSION
from state_store.keys import Keys
from state_store.settings import Settings
from tests.control.api.conftest import AUTH, AppFactory
from tests.control.test_locked_control import GOOD, hand_edit


def test_api_answers_4xx_never_500_when_a_command_cannot_bump(
    make_app: AppFactory, settings: Settings, real_redis: redis.Redis
) -> None:
    (settings.strategies / "good.py").write_text(GOOD)
    with TestClient(make_app(settings)) as http:
        assert http.post("/api/pause", headers=AUTH).status_code == 200
        hand_edit(settings, version=MAX_VERSION, paused=False)
        assert http.post("/api/resume", headers=AUTH).status_code == 200  # file set aside
        real_redis.hset(Keys(settings.bot).control, mapping={"version": str(MAX_VERSION)})
        for route in ("/api/pause", "/api/resume", "/api/flatten"):
            response = http.post(route, headers=AUTH)
            assert response.status_code == 422, response.text
            assert "no command can bump it" in response.json()["detail"]


def test_api_config_patch_outside_the_limits_is_422(
    make_app: AppFactory, settings: Settings
) -> None:
    (settings.strategies / "good.py").write_text(GOOD)
    client = TestClient(make_app(settings))
    body = {"strategy": "good", "key": "size", "value": -5}
    response = client.patch("/api/config", headers=AUTH, json=body)
    assert response.status_code == 422 and "below its minimum 1" in response.json()["detail"]
