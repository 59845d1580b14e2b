"""The token on every mutating route, private reads, and the error bodies (401/403/404/413/422)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from control.api.config import LOOPBACK_HOSTS
from state_store.settings import Settings
from tests.control.api.conftest import AUTH, TOKEN, AppFactory

MUTATING = [
    ("POST", "/api/pause"),
    ("POST", "/api/resume"),
    ("POST", "/api/reload"),
    ("POST", "/api/flatten"),
    ("POST", "/api/kill"),
    ("PATCH", "/api/config"),
]
READS = ["/api/status", "/api/config", "/api/reloads", "/api/state", "/metrics"]


def version(client: TestClient) -> int:
    return int(client.get("/api/status").json()["control"]["version"])


@pytest.mark.parametrize(("method", "path"), MUTATING)
def test_no_token_is_401_and_changes_nothing(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={"strategy": "alpha", "key": "size", "value": 1})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Authorization: Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert version(client) == 0


@pytest.mark.parametrize(("method", "path"), MUTATING)
def test_wrong_token_is_403_and_changes_nothing(client: TestClient, method: str, path: str) -> None:
    headers = {"Authorization": "Bearer " + TOKEN[:-1] + "X"}
    response = client.request(
        method, path, headers=headers, json={"values": {"alpha": {"size": 1}}}
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "detail": "the bearer token is not valid for this bot",
    }
    assert version(client) == 0


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", TOKEN])
def test_malformed_authorization_is_401(client: TestClient, header: str) -> None:
    response = client.post("/api/pause", headers={"Authorization": header})
    assert response.status_code == 401
    assert "malformed Authorization header" in response.json()["detail"]


def test_non_ascii_token_is_403_not_500(client: TestClient) -> None:
    response = client.post("/api/pause", headers={"Authorization": "Bearer t\u00f6ken".encode()})
    assert response.status_code == 403


def test_reads_are_open_by_default(client: TestClient) -> None:
    for path in READS:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("path", READS)
def test_private_reads_need_the_token(make_app: AppFactory, settings: Settings, path: str) -> None:
    with TestClient(make_app(settings, private_reads=True)) as client:
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 403
        assert client.get(path, headers=AUTH).status_code == 200
        assert client.get("/healthz").json()["private_reads"] is True
        assert client.get("/").status_code == 200  # the page itself holds no data


def test_private_event_stream_refuses_a_missing_or_wrong_query_token(
    make_app: AppFactory, settings: Settings
) -> None:
    with TestClient(make_app(settings, private_reads=True)) as client:
        assert client.get("/api/events").status_code == 401
        assert client.get("/api/events", params={"token": "nope"}).status_code == 403


def test_unknown_route_is_404_json(client: TestClient) -> None:
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "not found", "detail": "no route GET /api/nope"}


def test_wrong_method_is_405_json(client: TestClient) -> None:
    response = client.delete("/api/pause", headers=AUTH)
    assert response.status_code == 405
    assert response.json()["error"] == "method not allowed"


def test_body_over_the_limit_is_413(client: TestClient) -> None:
    big = {"strategy": "alpha", "key": "mode", "value": "x" * (70 * 1024)}
    response = client.patch("/api/config", headers=AUTH, json=big)
    assert response.status_code == 413
    assert response.json()["error"] == "request too large"
    assert "65536" in response.json()["detail"]
    assert version(client) == 0


def test_streamed_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(80):
            yield b"x" * 1024

    response = client.patch("/api/config", headers=AUTH, content=chunks())
    assert response.status_code == 413


def test_malformed_content_length_is_400(client: TestClient) -> None:
    response = client.post("/api/pause", headers={**AUTH, "Content-Length": "abc"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"strategy": "alpha", "key": "size", "value": NaN}', b"null"],
)
def test_bad_json_is_422(client: TestClient, body: bytes) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = client.patch("/api/config", headers=headers, content=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid request"
    assert isinstance(response.json()["detail"], list)


def test_bad_reload_body_is_422(client: TestClient) -> None:
    response = client.post("/api/reload", headers=AUTH, json={"module": "../../etc/passwd"})
    assert response.status_code == 422
    response = client.post("/api/reload", headers=AUTH, json={"path": "/tmp/x.py"})
    assert response.status_code == 422
    assert version(client) == 0


def test_bad_query_is_422(client: TestClient) -> None:
    assert client.get("/api/reloads", params={"limit": 0}).status_code == 422
    assert client.get("/api/config", params={"strategy": "a/b"}).status_code == 422


def test_host_header_is_checked_on_loopback(make_app: AppFactory, settings: Settings) -> None:
    app = make_app(settings, allowed_hosts=LOOPBACK_HOSTS)
    with TestClient(app, base_url="http://127.0.0.1:8791") as client:
        assert client.get("/api/status").status_code == 200
        rebound = client.get("/api/status", headers={"Host": "attacker.example"})
        assert rebound.status_code == 400


def test_no_cors_headers_unless_configured(make_app: AppFactory, settings: Settings) -> None:
    origin = {"Origin": "https://ops.example"}
    with TestClient(make_app(settings)) as client:
        assert (
            "access-control-allow-origin" not in client.get("/api/status", headers=origin).headers
        )
    with TestClient(make_app(settings, cors_origins=("https://ops.example",))) as client:
        answer = client.get("/api/status", headers=origin)
        assert answer.headers["access-control-allow-origin"] == "https://ops.example"
        other = client.get("/api/status", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
