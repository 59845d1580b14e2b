"""/metrics: Prometheus text derived from Redis at scrape time, in the app's own registry."""

from __future__ import annotations

import redis
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from state_store.keys import Keys
from state_store.settings import Settings
from tests.control.api.conftest import AUTH
from tests.control.api.helpers import beat, publish_history, trade


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_describe_runners_reloads_and_trading(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    beat(real_redis, settings.bot, "r1", tick=12, paused=True)
    publish_history(real_redis, settings.bot)
    trade(real_redis, settings.bot)
    client.post("/api/pause", headers=AUTH)
    m = scrape(client)
    r1 = (("replica", "r1"),)
    assert m[("neverblink_redis_up", ())] == 1
    assert m[("neverblink_runner_ticks_total", r1)] == 12
    assert m[("neverblink_runner_paused", r1)] == 1
    assert m[("neverblink_runner_up", r1)] == 1
    assert m[("neverblink_runner_orders_created_total", r1)] == 3
    assert m[("neverblink_runner_ticks_missed_total", r1)] == 2
    assert m[("neverblink_runner_books", (("replica", "r1"), ("source", "stream")))] == 3
    assert m[("neverblink_runner_books", (("replica", "r1"), ("source", "rest")))] == 1
    assert m[("neverblink_runner_entries_refused_stale_total", r1)] == 2
    assert m[("neverblink_degraded", ())] == 0
    assert m[("neverblink_reload_events_total", (("kind", "live"),))] == 3
    assert m[("neverblink_reload_events_total", (("kind", "promoted"),))] == 2
    assert m[("neverblink_reloads_total", (("result", "ok"),))] == 3
    assert m[("neverblink_rollbacks_total", ())] == 1
    assert m[("neverblink_pending_orders", ())] == 1
    assert m[("neverblink_fills_total", ())] == 1
    assert m[("neverblink_paused", ())] == 1
    assert m[("neverblink_control_version", ())] == 1


def test_reload_counters_never_go_down_when_the_stream_is_trimmed(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    publish_history(real_redis, settings.bot)
    assert scrape(client)[("neverblink_rollbacks_total", ())] == 1
    real_redis.xtrim(Keys(settings.bot).reloads, maxlen=0)
    assert scrape(client)[("neverblink_rollbacks_total", ())] == 1
    publish_history(real_redis, settings.bot)
    assert scrape(client)[("neverblink_rollbacks_total", ())] == 2


def test_metrics_stay_out_of_the_global_registry(client: TestClient) -> None:
    scrape(client)
    assert REGISTRY.get_sample_value("neverblink_redis_up") is None


def test_tick_duration_histogram_per_replica(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    from runner.tick_timing import TickDurations
    from state_store.status import heartbeat
    from tests.control.api.helpers import runner_section

    durations = TickDurations()
    for seconds in (0.004, 0.02, 0.02, 0.3):
        durations.observe(seconds)
    section = runner_section("r1", 4, False).model_copy(
        update={"tick_seconds": durations.to_record()}
    )
    heartbeat(real_redis, Keys(settings.bot), "r1", section, 10_000)
    m = scrape(client)
    r1 = ("replica", "r1")
    bucket = "neverblink_tick_duration_seconds_bucket"
    assert m[(bucket, (("le", "0.005"), r1))] == 1
    assert m[(bucket, (("le", "0.025"), r1))] == 3
    assert m[(bucket, (("le", "+Inf"), r1))] == 4
    assert m[("neverblink_tick_duration_seconds_count", (r1,))] == 4
    assert abs(m[("neverblink_tick_duration_seconds_sum", (r1,))] - 0.344) < 1e-9


def test_a_halted_runner_and_a_silent_venue_are_shown_and_alertable(
    client: TestClient, real_redis: redis.Redis, settings: Settings
) -> None:
    from state_store.status import heartbeat
    from tests.control.api.helpers import runner_section

    halted = runner_section("r1", tick=7).model_copy(
        update={
            "operational_error": "AuthError: GET /data/trades: credentials refused",
            "operational_error_since": 1_700_000_000.5,
        }
    )
    silent = runner_section("r2", tick=9).model_copy(
        update={
            "venue_unresponsive_since": 1_700_000_001.25,
            "venue_error": "GET /time: ReadTimeout('timed out')",
        }
    )
    for section in (halted, silent):
        heartbeat(real_redis, Keys(settings.bot), section.replica, section, 10_000)
    m = scrape(client)
    r1, r2 = (("replica", "r1"),), (("replica", "r2"),)
    assert m[("neverblink_runner_halted", r1)] == 1 and m[("neverblink_runner_halted", r2)] == 0
    assert m[("neverblink_runner_venue_unresponsive", r1)] == 0
    assert m[("neverblink_runner_venue_unresponsive", r2)] == 1
    rows = {r["replica"]: r for r in client.get("/api/status").json()["runners"]}
    assert rows["r1"]["operational_error"].startswith("AuthError")
    assert rows["r1"]["venue_unresponsive_since"] is None  # not the string "None"
    assert rows["r2"]["venue_unresponsive_since"] == 1_700_000_001.25
    assert rows["r2"]["venue_error"].startswith("GET /time")
