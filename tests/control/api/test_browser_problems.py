"""The dashboard says why a runner places no orders: a halt (operational error), a venue
that does not answer, each with its reason, and stale books, as the runner reports them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from playwright.sync_api import expect, sync_playwright

from state_store.keys import Keys
from state_store.status import BookSources, heartbeat
from tests.control.api.conftest import TOKEN
from tests.control.api.helpers import runner_section
from tests.control.api.system import copy_strategies, start_serve
from tests.control.api.test_browser import CHROMIUM, FLAGS, WAIT_MS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)"),
]


@pytest.mark.timeout(120)
def test_dashboard_shows_a_halt_and_a_silent_venue(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    now = time.time()
    halted = runner_section("r1", tick=7).model_copy(
        update={
            "operational_error": "AuthError: GET /data/trades: credentials refused",
            "operational_error_since": now - 30,
        }
    )
    silent = runner_section("r2", tick=9).model_copy(
        update={
            "venue_unresponsive_since": now - 5,
            "venue_error": "GET /time: ReadTimeout('timed out')",
            "books": BookSources(market_stream="down", stale=2, rest=2, entries_refused=5),
        }
    )
    for section in (halted, silent):
        heartbeat(real_redis, Keys("default"), section.replica, section, 60_000)
    strategies = copy_strategies(tmp_path / "strategies")
    serve, url = start_serve(tmp_path, redis_url, strategies, tmp_path / "home", TOKEN)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:
                page = browser.new_page()
                page.goto(url)
                r1 = page.locator('#runners tr[data-replica="r1"]')
                r2 = page.locator('#runners tr[data-replica="r2"]')
                expect(r1.locator('[data-field="state"]')).to_contain_text(
                    "halted", timeout=WAIT_MS
                )
                expect(r1.locator('[data-field="problems"]')).to_contain_text(
                    "credentials refused", timeout=WAIT_MS
                )
                expect(r2.locator('[data-field="state"]')).to_contain_text(
                    "venue unresponsive", timeout=WAIT_MS
                )
                expect(r2.locator('[data-field="problems"]')).to_contain_text(
                    "ReadTimeout", timeout=WAIT_MS
                )
                expect(r2.locator('[data-field="state"]')).not_to_contain_text("halted")
                expect(r2.locator('[data-field="state"]')).to_contain_text("book stream down")
                expect(r2.locator('[data-field="state"]')).to_contain_text("2 stale books")
                expect(r1.locator('[data-field="state"]')).to_contain_text(
                    "books 3 stream · 1 rest"
                )
                expect(r1.locator('[data-field="state"]')).not_to_contain_text("stale")
            finally:
                browser.close()
    finally:
        serve.stop()
