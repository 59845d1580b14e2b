"""PATCH /api/risk and GET /api/risk: the CLI's validation and answers, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from state_store.keys import Keys
from state_store.settings import Settings
from state_store.status import heartbeat
from tests.control.api.conftest import AUTH
from tests.control.api.helpers import runner_section
from tests.control.api.test_metrics import scrape


@pytest.mark.parametrize(
    "body",
    [
        {"scope": "bot", "limit": "max_shares", "value": "150"},
        {"values": {"bot": {"max_shares": 150}}},
    ],
)
def test_risk_patch_types_values_and_get_reads_them(
    client: TestClient, body: dict[str, Any]
) -> None:
    response = client.patch("/api/risk", headers=AUTH, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["state"]["risk"] == {"bot": {"max_shares": 150.0}}
    got = client.get("/api/risk").json()
    assert got["limits"]["bot"]["max_shares"] == 150.0
    assert got["limits"]["alpha"]["max_shares"] == 150.0  # the bot's, unless alpha's own
    assert got["overrides"] == {"bot": {"max_shares": 150.0}}
    assert got["defaults"]["max_open_orders"] == 20 and got["plane"] == "redis"
    assert client.get("/api/status").json()["control"]["risk"] == {"bot": {"max_shares": 150.0}}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"scope": "bot", "limit": "max_shares", "value": "lots"}, "refused"),
        ({"scope": "bot", "limit": "max_open_orders", "value": 1.5}, "refused"),
        ({"scope": "bot", "limit": "max_daily_loss", "value": -5}, "refused"),
        ({"scope": "bot", "limit": "nope", "value": 1}, "refused"),
        ({"scope": "gamma", "limit": "max_shares", "value": 1}, "refused"),
        ({"scope": "bot", "limit": "max_shares"}, "invalid request"),
        ({"values": {"bot": {}}}, "invalid request"),
        ({"scope": "bot", "limit": "max_shares", "value": 1, "extra": 1}, "invalid request"),
    ],
)
def test_bad_risk_patch_is_422_and_changes_nothing(
    client: TestClient, body: dict[str, Any], error: str
) -> None:
    response = client.patch("/api/risk", headers=AUTH, json=body)
    assert response.status_code == 422
    assert response.json()["error"] == error
    assert client.get("/api/status").json()["control"]["version"] == 0


def test_risk_patch_needs_the_token(client: TestClient) -> None:
    body = {"scope": "bot", "limit": "max_shares", "value": 1}
    assert client.patch("/api/risk", json=body).status_code == 401


def test_refusals_and_loss_breaches_are_in_the_metrics(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    section = runner_section("r1", 5, False).model_copy(
        update={"risk_refused": {"bot.max_shares": 4}, "risk_breached": ["bot"]}
    )
    heartbeat(real_redis, Keys(settings.bot), "r1", section, 10_000)
    m = scrape(client)
    assert m[("neverblink_risk_refused_total", (("limit", "bot.max_shares"), ("replica", "r1")))]
    assert m[("neverblink_risk_loss_breached", (("replica", "r1"), ("scope", "bot")))] == 1
    rows = client.get("/api/status").json()["runners"]
    assert rows[0]["risk_refused"] == {"bot.max_shares": 4}
