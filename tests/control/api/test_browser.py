"""The dashboard in a real browser (Debian's chromium, driven by Playwright) on a live system.

A private redis-server, the paper venue, two runner replicas and `neverblink
serve` as real processes; the test enters the token, pauses the bot and sees
both runners report paused, resumes, edits a strategy and sees the reload
go live and be promoted on both replicas in the timeline, sets a config
override, and saves the screenshot used by the docs (docs/dashboard.png).
Every wait is bounded (Playwright's expect timeouts); nothing asserts timing.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.control.api.conftest import TOKEN
from tests.control.api.system import (
    REPO,
    Proc,
    commit,
    copy_strategies,
    start_runner,
    start_serve,
    start_venue,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DOCS_SCREENSHOT = REPO / "docs" / "dashboard.png"
#: Set to 1 to refresh docs/dashboard.png from this run (otherwise it goes to the tmp dir).
UPDATE_DOCS = os.environ.get("NEVERBLINK_UPDATE_SCREENSHOT") == "1"
GIT_SHA = re.compile(r"^[0-9a-f]{40}$")
CONFIRMED = re.compile(r"^(live|promoted)$")
WAIT_MS = 30_000  # an upper bound for each wait, never a pause

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)"),
]


@pytest.fixture
def system(tmp_path: Path, redis_url: str) -> Iterator[dict[str, object]]:
    procs: list[Proc] = []
    home, strategies = tmp_path / "home", copy_strategies(tmp_path / "strategies")
    try:
        venue, venue_url = start_venue(tmp_path, redis_url)
        procs.append(venue)
        for replica in ("r1", "r2"):
            procs.append(start_runner(tmp_path, replica, redis_url, venue_url, strategies, home))
        serve, url = start_serve(tmp_path, redis_url, strategies, home, TOKEN)
        procs.append(serve)
        yield {"url": url, "strategies": strategies, "procs": procs, "tmp": tmp_path}
    finally:
        for proc in reversed(procs):
            proc.stop()
        for proc in procs:  # shown by pytest only when the test failed
            print(proc.tail())


@pytest.mark.timeout(150)
def test_dashboard_pauses_runners_and_shows_a_reload(system: dict[str, object]) -> None:
    url, strategies = str(system["url"]), Path(str(system["strategies"]))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url)
            runners = page.locator("#runners tbody tr[data-replica]")
            expect(runners).to_have_count(2, timeout=WAIT_MS)
            expect(page.locator("#stream")).to_have_text("live", timeout=WAIT_MS)

            enter_token(page)
            command(page, "pause", "paused")
            for replica in ("r1", "r2"):
                row = page.locator(f'#runners tr[data-replica="{replica}"]')
                expect(row).to_have_attribute("data-paused", "true", timeout=WAIT_MS)
            expect(page.locator("#entries")).to_have_text("PAUSED", timeout=WAIT_MS)
            command(page, "resume", "resumed")
            for replica in ("r1", "r2"):
                row = page.locator(f'#runners tr[data-replica="{replica}"]')
                expect(row).to_have_attribute("data-paused", "false", timeout=WAIT_MS)

            first = page.locator("#timeline li[data-generation]").first
            expect(first).to_have_attribute("data-outcome", "ok", timeout=WAIT_MS)
            initial = first.get_attribute("data-generation")
            edit_strategy(strategies)
            reloaded = page.locator(
                f'#timeline li[data-generation]:not([data-generation="{initial}"])'
            ).first
            expect(reloaded).to_be_visible(timeout=WAIT_MS)
            expect(reloaded).to_have_attribute("data-outcome", "ok", timeout=WAIT_MS)
            # each replica confirms it went live; a replica that holds no market runs no
            # strategy, so its probation does not advance (runner design): live or promoted
            for replica in ("r1", "r2"):
                chip = reloaded.locator(f'[data-replica="{replica}"]')
                expect(chip).to_have_attribute("data-kind", CONFIRMED, timeout=WAIT_MS)
            expect(reloaded).to_have_attribute("data-git", GIT_SHA, timeout=WAIT_MS)

            set_override(page)
            shot = DOCS_SCREENSHOT if UPDATE_DOCS else Path(str(system["tmp"])) / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert errors == []
        finally:
            browser.close()


def enter_token(page: Page) -> None:
    page.click("#btn-token")
    page.fill("#token-input", TOKEN)
    page.click("#token-save")
    expect(page.locator("#btn-token")).to_have_text("Token ✓")


def command(page: Page, name: str, said: str) -> None:
    page.click(f"#btn-{name}")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    page.click("#confirm-ok")
    expect(page.locator("#result")).to_contain_text(said, timeout=WAIT_MS)


def set_override(page: Page) -> None:
    page.select_option("#cfg-strategy", "momentum")
    page.select_option("#cfg-key", "min_edge")
    page.fill("#cfg-value", "0.05")
    page.click("#config-form button[type=submit]")
    expect(page.locator("#result")).to_contain_text("config set", timeout=WAIT_MS)
    row = page.locator('#config tr[data-param="momentum.min_edge"]')
    expect(row).to_contain_text("0.05", timeout=WAIT_MS)
    # the stream has delivered it too: pause v1, resume v2, this override v3
    expect(page.locator("#control-version")).to_have_text("v3", timeout=WAIT_MS)
    expect(page.locator("#audit tbody tr").first).to_contain_text("config_set", timeout=WAIT_MS)


def edit_strategy(strategies: Path) -> None:
    """A deploy: change a PARAMS default and commit it (the runners pick it up on their own)."""
    path = strategies / "momentum.py"
    source = path.read_text()
    changed = source.replace('"size": 5,', '"size": 6,')
    assert changed != source, "momentum.py no longer has the PARAMS line this test edits"
    path.write_text(changed)
    commit(strategies, "momentum: size 6")
