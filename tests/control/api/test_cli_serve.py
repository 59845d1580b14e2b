"""`neverblink serve`: loopback by default, a network address only with an explicit token."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from control.cli import main
from control.cli_serve import build, is_loopback, network_refusal
from state_store.settings import ENV_API_TOKEN, Settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
     ("[::1]", True), ("0.0.0.0", False), ("::", False), ("10.1.2.3", False),
     ("example.com", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_network_bind_needs_an_explicit_long_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_API_TOKEN, raising=False)
    assert network_refusal("127.0.0.1") is None
    assert "needs an explicit token" in (network_refusal("0.0.0.0") or "")
    monkeypatch.setenv(ENV_API_TOKEN, "short")
    assert "at least 16" in (network_refusal("0.0.0.0") or "")
    monkeypatch.setenv(ENV_API_TOKEN, "x" * 32)
    assert network_refusal("0.0.0.0") is None


def test_serve_refuses_a_network_address_without_a_token(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.delenv(ENV_API_TOKEN, raising=False)
    args = ["serve", "--host", "0.0.0.0", "--home", str(settings.home)]
    result = CliRunner().invoke(main, [*args, "--redis-url", settings.redis_url or ""])
    assert result.exit_code == 1
    assert "refusing to listen on 0.0.0.0" in result.output
    assert ENV_API_TOKEN in result.output


def test_built_app_uses_the_home_token_and_checks_the_host(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.delenv(ENV_API_TOKEN, raising=False)
    app = build(settings, "127.0.0.1")
    token_file = settings.home / "api_token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    token = token_file.read_text().strip()
    try:
        with TestClient(app, base_url="http://127.0.0.1:8791") as client:
            auth = {"Authorization": f"Bearer {token}"}
            assert client.post("/api/pause", headers=auth).status_code == 200
            evil = client.get("/api/status", headers={"Host": "evil.example:8791"})
            assert evil.status_code == 400
    finally:
        app.state.service.close()
