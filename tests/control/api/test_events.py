"""/api/events: the poller emits only what changed; a live stream delivers it to a client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import redis

from control.api.sse import Poller, stop_streams
from control.service import ControlService
from state_store.private_redis import RedisProcess
from state_store.settings import Settings
from tests.control.api.conftest import AUTH, AppFactory, LiveServer
from tests.control.api.helpers import beat, publish_history, trade


def names(events: list[Any]) -> list[str]:
    return [e.name for e in events]


def test_first_poll_sends_snapshots_then_only_changes(
    service: ControlService, real_redis: redis.Redis, settings: Settings
) -> None:
    poller = Poller(service)
    assert names(poller.poll()) == ["status", "control", "timeline", "state", "orders"]
    assert poller.poll() == []

    publish_history(real_redis, settings.bot)
    events = poller.poll()
    assert names(events) == ["status", *["reload"] * 6, "timeline"]
    assert [e.data["kind"] for e in events[1:3]] == ["live", "live"]
    assert events[-1].data["generations"][0]["outcome"] == "rolled_back"

    service.apply("pause", {}, actor="test")
    events = poller.poll()
    assert names(events)[:2] == ["status", "control"]
    assert events[1].data["paused"] is True

    trade(real_redis, settings.bot)
    changed = {e.name: e.data for e in poller.poll()}
    assert set(changed) >= {"state", "orders", "fills"}
    assert changed["fills"] == {"new": 1, "total": 1}
    assert len(changed["orders"]) == 1


def test_runner_ticks_are_status_changes_but_heartbeat_ages_alone_are_not(
    service: ControlService, real_redis: redis.Redis, settings: Settings
) -> None:
    poller = Poller(service)
    beat(real_redis, settings.bot, "r1", tick=1)
    poller.poll()
    assert poller.poll() == []  # only the heartbeat age moved
    beat(real_redis, settings.bot, "r1", tick=2)
    (event,) = poller.poll()
    assert event.name == "status" and event.data["runners"][0]["tick"] == 2


def test_losing_redis_resends_every_snapshot_from_the_files(
    make_settings: Callable[..., Settings], own_redis: RedisProcess
) -> None:
    service = ControlService(make_settings(own_redis.url))
    try:
        poller = Poller(service)
        poller.poll()
        own_redis.kill()
        events = {e.name: e.data for e in poller.poll()}
        assert events["status"]["plane"] == "file" and events["status"]["note"]
        assert events["timeline"]["plane"] == "file"
        assert events["state"]["windows"] is None
    finally:
        service.close()


def read_events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))


def wait_for(events: Iterator[tuple[str, Any]], want: Callable[[str, Any], bool]) -> Any:
    for name, data in events:  # bounded by the client's read timeout
        if want(name, data):
            return data
    raise AssertionError("the stream ended first")


def test_a_live_stream_delivers_status_and_control_changes(
    make_app: AppFactory, settings: Settings, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(make_app(settings, poll_interval_s=0.05))
    timeout = httpx.Timeout(5.0)
    with httpx.stream("GET", server.url + "/api/events", timeout=timeout) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_events(response)
        hello = wait_for(events, lambda n, _: n == "hello")
        assert hello["bot"] == settings.bot
        assert wait_for(events, lambda n, _: n == "status")["plane"] == "redis"
        started = time.monotonic()
        answer = httpx.post(server.url + "/api/pause", headers=AUTH, timeout=timeout)
        assert answer.status_code == 200
        control = wait_for(events, lambda n, d: n == "control" and d["version"] == 1)
        assert control["paused"] is True
    assert time.monotonic() - started < 30  # a sanity bound, not a latency assertion


def test_private_stream_takes_the_token_as_a_query_parameter(
    make_app: AppFactory, settings: Settings, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(make_app(settings, private_reads=True, poll_interval_s=0.05))
    token = AUTH["Authorization"].removeprefix("Bearer ")
    url = server.url + "/api/events"
    with httpx.stream("GET", url, params={"token": token}, timeout=5.0) as response:
        assert response.status_code == 200
        assert wait_for(read_events(response), lambda n, _: n == "status")["bot"] == settings.bot


def stream_status(url: str) -> int:
    with httpx.stream("GET", url, timeout=5.0) as response:
        return response.status_code


def test_stream_count_is_capped(
    make_app: AppFactory, settings: Settings, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(make_app(settings, max_streams=1, poll_interval_s=0.05))
    with httpx.stream("GET", server.url + "/api/events", timeout=5.0) as first:
        events = read_events(first)  # keep it referenced: dropping it closes the stream
        wait_for(events, lambda n, _: n == "status")
        with httpx.stream("GET", server.url + "/api/events", timeout=5.0) as second:
            assert second.status_code == 503
            assert json.loads(second.read())["error"] == "unavailable"
    deadline = time.monotonic() + 10  # the server notices the disconnect, frees the slot
    while stream_status(server.url + "/api/events") == 503:
        assert time.monotonic() < deadline, "the closed stream's slot was never freed"
        time.sleep(0.05)


def test_stop_streams_ends_open_streams(
    make_app: AppFactory, settings: Settings, live_server: Callable[..., LiveServer]
) -> None:
    app = make_app(settings, poll_interval_s=0.05)
    server = live_server(app)
    with httpx.stream("GET", server.url + "/api/events", timeout=5.0) as response:
        events = read_events(response)
        wait_for(events, lambda n, _: n == "status")
        stop_streams(app)
        rest = [name for name, _ in events]  # returns: the stream ended (no read timeout)
        assert "status" not in rest
