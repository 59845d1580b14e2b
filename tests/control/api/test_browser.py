"""The dashboard in a real browser (Debian's chromium, driven by Playwright) on a live system.

A private redis-server, the paper venue, two runner replicas and `neverblink
serve` as real processes. The venue's clock runs 10x and hours ahead of the
wall clock, as after a while of `neverblink demo`: every window's time left
must still fit in the window. The test enters the token, pauses the bot and
sees both runners report paused, resumes, edits a strategy and sees the
reload go live and be promoted on both replicas in the timeline, sets a
config override, and saves the screenshot used by the docs
(docs/dashboard.png: every run rewrites it, so CI regenerates it from the
code; a checkout whose docs/ is not writable gets it in the tmp dir). Then
the venue turns cancel-only (its fault switch) and the runners' rows say so,
with the venue's reason.
Every wait is bounded (Playwright's expect timeouts); nothing asserts timing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from control.params import read_catalog
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
from tests.runner.test_chaos_kill import EVERY_SECOND

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DOCS_SCREENSHOT = REPO / "docs" / "dashboard.png"
#: the venue: 10x, 5m windows of 300 venue seconds, its clock 6 hours ahead of the wall clock
VENUE_SPEED, WINDOW_S, AHEAD_S = 10, 300, 6 * 3600
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
        clock = ("--speed", str(VENUE_SPEED), "--start-ts", str(time.time() + AHEAD_S))
        venue, venue_url = start_venue(tmp_path, redis_url, *clock, window_seconds=WINDOW_S)
        procs.append(venue)
        for replica in ("r1", "r2"):
            procs.append(start_runner(tmp_path, replica, redis_url, venue_url, strategies, home))
        serve, url = start_serve(tmp_path, redis_url, strategies, home, TOKEN)
        procs.append(serve)
        yield {
            "url": url, "venue_url": venue_url, "strategies": strategies, "procs": procs,
            "tmp": tmp_path,
        }  # fmt: skip
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
            assert_time_left_fits_the_windows(page)

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
            assert_time_left_fits_the_windows(page)
            assert_defaults_are_the_code_s(page)
            shot = screenshot_path(Path(str(system["tmp"])))
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert_a_cancel_only_venue_is_shown(page, str(system["venue_url"]), strategies)
            assert errors == []
        finally:
            browser.close()


def screenshot_path(tmp: Path) -> Path:
    """docs/dashboard.png when this checkout can write it (CI does), else the tmp dir."""
    if os.access(DOCS_SCREENSHOT.parent, os.W_OK):
        return DOCS_SCREENSHOT
    return tmp / "dashboard.png"


def seconds(text: str) -> int:
    """The dashboard's duration ("42s", "4m 05s", "6h 3m") in seconds."""
    total = 0
    for number, unit in re.findall(r"(\d+)([hms])", text):
        total += int(number) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def assert_time_left_fits_the_windows(page: Page) -> None:
    """Time left is on the venue's clock: never more than the window's own length."""
    rows = page.locator("#windows tbody tr[data-market]")
    expect(rows.first).to_be_visible(timeout=WAIT_MS)
    cells = page.eval_on_selector_all(
        "#windows tbody tr[data-market]",
        "rows => rows.map(r => [r.dataset.market, (r.querySelector('[data-end]') || "
        "r.querySelector('[data-start]')).textContent])",
    )
    running = [(market, left) for market, left in cells if not left.startswith("starts in ")]
    assert running
    for market, left in running:
        length = WINDOW_S * (3 if "-15m-" in market else 1)
        assert re.fullmatch(r"(\d+h )?(\d+m )?\d+[ms]|\d+h \d+m", left), (market, left)
        assert seconds(left) <= length, f"{market}: {left} left in a window of {length} s"
    for market, starts in cells:  # discovered before they open: when they start, not "left"
        if starts.startswith("starts in "):
            length = WINDOW_S * (3 if "-15m-" in market else 1)
            assert seconds(starts.removeprefix("starts in ")) <= 2 * length, (market, starts)


def assert_defaults_are_the_code_s(page: Page) -> None:
    """The parameter table (and so the docs screenshot) shows the repository's PARAMS."""
    catalog = read_catalog(REPO / "strategies")
    expected = {f"{n}.{k}": json.dumps(v) for n, p in catalog.params.items() for k, v in p.items()}
    shown = page.eval_on_selector_all(
        "#config tr[data-param]",
        "rows => rows.map(r => [r.dataset.param, r.children[2].textContent])",
    )
    assert dict(shown) == expected


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


def assert_a_cancel_only_venue_is_shown(page: Page, venue_url: str, strategies: Path) -> None:
    """The paper venue refuses new orders (cancel-only); a strategy that posts every venue
    second is deployed, so a runner's next order meets the refusal; its row says why."""
    reply = httpx.post(f"{venue_url}/paper/faults", json={"cancel_only": True}, timeout=10)
    assert reply.status_code == 200, reply.text
    (strategies / "every_second.py").write_text(EVERY_SECOND)
    commit(strategies, "every_second: an order every venue second")
    state = page.locator('#runners [data-field="state"]', has_text="venue cancel_only").first
    expect(state).to_be_visible(timeout=WAIT_MS)
    problems = page.locator('#runners [data-field="problems"]', has_text="cancel_only since")
    expect(problems.first).to_contain_text("cancel-only", timeout=WAIT_MS)


def edit_strategy(strategies: Path) -> None:
    """A deploy: change momentum.py and commit it (the runners pick it up on their own).

    The change leaves PARAMS alone, so the screenshot's parameter table shows the
    defaults the code has.
    """
    path = strategies / "momentum.py"
    source = path.read_text()
    path.write_text(source + "\n# deployed by the dashboard test\n")
    commit(strategies, "momentum: a deploy")
