"""Venue faults from the paper venue's switches, on the paper client and on the live venue:
engine restart (425, then post-only), cancel-only, insufficient balance, bad credentials.
Each: no duplicate order, no crash loop (the loop keeps ticking), the reason in status.json
and `ctl status`; the runner places again once the restriction passed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account import Account
from starlette.testclient import TestClient

from control.cli import main
from exchange.auth import ApiCredentials
from exchange.factory import VenueSpec, open_venue
from exchange.live.credentials import save_credentials
from exchange.live.keys import KEY_ENV
from exchange.types import OrderRequest, PlaceResult
from exchange.venue import Venue
from runner.loop import Loop
from runner.runtime import Runtime
from state_store.models import OrderStatus
from tests.runner.conftest import BOTH_VENUES, RuntimeFactory
from tests.runner.test_tick import only_always


def set_faults(venue_app: Any, **faults: Any) -> None:
    http = TestClient(venue_app)  # the app runs already (the venue fixture started it)
    assert http.post("/paper/faults", json=faults).status_code == 200


def clear_faults(venue_app: Any) -> None:
    assert TestClient(venue_app).delete("/paper/faults").status_code < 300


def count_posts(monkeypatch: pytest.MonkeyPatch, venue: Venue) -> list[str]:
    """Every order post (`POST /order`, or a tick's batch `POST /orders`), in order."""
    posted: list[str] = []
    place: Callable[[OrderRequest], PlaceResult] = venue.place
    place_many: Callable[[Sequence[OrderRequest]], list[PlaceResult]] = venue.place_many  # type: ignore[attr-defined]

    def counting(req: OrderRequest) -> PlaceResult:
        posted.append(req.client_order_id)
        return place(req)

    def counting_many(reqs: Sequence[OrderRequest]) -> list[PlaceResult]:
        posted.append(",".join(r.client_order_id for r in reqs))
        return place_many(reqs)

    monkeypatch.setattr(venue, "place", counting)
    monkeypatch.setattr(venue, "place_many", counting_many)
    return posted


def section(rt: Runtime) -> dict[str, Any]:
    runners: dict[str, Any] = json.loads(rt.settings.status_file.read_text())["runners"]
    return dict(runners[rt.config.replica])


def ctl_status(rt: Runtime) -> str:
    flags = ["--home", str(rt.settings.home), "--redis-url", rt.settings.redis_url or ""]
    flags += ["--strategies", str(rt.settings.strategies)]
    result = CliRunner().invoke(main, ["ctl", "status", *flags])
    assert result.exit_code == 0, result.output
    return result.output


def shows_words(table: str, text: str) -> bool:
    """`text` is in the rich table, wrapped over the lines of its column or not."""
    pattern = r"[\s│]+".join(re.escape(word) for word in text.split())
    return re.search(pattern, table) is not None


def assert_no_duplicates(rt: Runtime, venue: Venue) -> None:
    """Every venue order is one of ours, once; every order of ours is at most one venue order."""
    ours = [o for m in rt.store.markets() for o in rt.store.market_orders(m)]
    ids = [o.venue_order_id for o in ours if o.venue_order_id]
    assert len(ids) == len(set(ids)) and len({o.client_order_id for o in ours}) == len(ours)
    at_venue = [o.order_id for o in venue.open_orders()]
    assert len(at_venue) == len(set(at_venue)) and set(at_venue) <= set(ids)


def pass_time(rt: Runtime) -> None:
    """The back-off is over (no sleeping in tests: the restriction's clock is moved)."""
    rt.restriction.until = 0.0
    rt.restriction.post_only_until = 0.0


@BOTH_VENUES
def test_engine_restart_stops_placing_then_post_only_then_resumes(
    make_runtime: RuntimeFactory, strategies_dir: Any, venue: Venue, venue_app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    only_always(strategies_dir)
    rt = make_runtime()
    posted = count_posts(monkeypatch, rt.venue)
    set_faults(venue_app, engine_restart_s=3600, post_only_s=3600)
    loop = Loop(rt)
    try:
        for _ in range(4):
            loop.one_tick()
        assert len(posted) == 1  # one refused post, then nothing: no retry storm
        assert rt.tick == 4 and rt.restriction.kind == "restarting"
        shown = section(rt)
        assert (
            shown["venue_restriction"] == "restarting"
            and "425" in shown["venue_restriction_reason"]
        )
        assert shows_words(ctl_status(rt), "venue restarting")  # "since ..." wraps
        stuck = [o for m in rt.store.markets() for o in rt.store.market_orders(m)]
        # the refused post's orders (the tick's batch) stay submitted, any others new: the
        # repair step posts them (looked up by id first) once the venue takes orders again
        statuses = sorted(o.status for o in stuck)
        assert statuses.count(OrderStatus.SUBMITTED) >= 1
        assert set(statuses) <= {OrderStatus.NEW, OrderStatus.SUBMITTED}

        # the restart is over, the post-only period is not: still nothing (ours never are)
        set_faults(venue_app, engine_restart_s=0, post_only_s=3600)
        rt.restriction.until = 0.0
        loop.one_tick()
        assert len(posted) == 1 and section(rt)["venue_restriction"] == "post_only"

        clear_faults(venue_app)
        pass_time(rt)
        for _ in range(3):
            loop.one_tick()
        assert len(posted) > 1 and rt.restriction.kind == ""
        assert section(rt)["venue_restriction"] == ""
        assert_no_duplicates(rt, rt.venue)
    finally:
        loop.teardown()


@BOTH_VENUES
def test_cancel_only_places_nothing_and_says_so(
    make_runtime: RuntimeFactory, strategies_dir: Any, venue: Venue, venue_app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    only_always(strategies_dir)
    rt = make_runtime()
    loop = Loop(rt)
    try:
        posted = count_posts(monkeypatch, rt.venue)
        set_faults(venue_app, cancel_only=True)
        for _ in range(3):
            loop.one_tick()
        assert len(posted) == 1 and rt.restriction.kind == "cancel_only"
        assert section(rt)["venue_restriction"] == "cancel_only"
        shown = ctl_status(rt)
        assert shows_words(shown, "venue cancel_only")  # "since ..." wraps
        assert shows_words(shown, section(rt)["venue_restriction_reason"])  # the venue's reason
        assert rt.venue.cancel_all() == []  # cancels still pass (nothing rests here)
        clear_faults(venue_app)
        pass_time(rt)
        loop.one_tick()
        assert rt.restriction.kind == "" and len(posted) > 1
        assert_no_duplicates(rt, rt.venue)
    finally:
        loop.teardown()


@BOTH_VENUES
def test_insufficient_balance_is_one_refusal_not_a_storm(
    make_runtime: RuntimeFactory, strategies_dir: Any, venue: Venue, venue_app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    only_always(strategies_dir)
    rt = make_runtime()
    posted = count_posts(monkeypatch, rt.venue)
    set_faults(venue_app, insufficient_balance=True)
    loop = Loop(rt)
    try:
        for _ in range(4):
            loop.one_tick()
        assert len(posted) == 1 and rt.tick == 4
        orders = [o for m in rt.store.markets() for o in rt.store.market_orders(m)]
        assert [o.status for o in orders].count(OrderStatus.REJECTED) >= 1  # the one post's
        assert {o.status for o in orders} <= {OrderStatus.REJECTED, OrderStatus.NEW}
        shown = section(rt)
        assert shown["venue_restriction"] == "insufficient_balance"
        assert "not enough balance" in shown["venue_restriction_reason"]
        # (the problem wraps over lines that other columns, e.g. "books: rest", share)
        assert "insufficient_balan" in ctl_status(rt)  # wrapped and cut at the column width
        clear_faults(venue_app)
        pass_time(rt)
        loop.one_tick()
        # trading resumes; the tick's batch was refused order by order (rejected, not
        # posted again: the strategy asks with the same keys), orders left new are posted
        assert section(rt)["venue_restriction"] == "" and rt.restriction.kind == ""
        new_before = [o for o in orders if o.status == OrderStatus.NEW]
        assert len(posted) == 1 + bool(new_before)
        assert_no_duplicates(rt, rt.venue)
    finally:
        loop.teardown()


def test_live_venue_with_bad_credentials_halts_and_says_why(
    make_runtime: RuntimeFactory, strategies_dir: Any, venue_app: Any, tmp_path: Path
) -> None:
    only_always(strategies_dir)
    key = Account.create()
    env = {KEY_ENV: key.key.hex()}
    stored = tmp_path / "api_credentials.json"
    with TestClient(venue_app) as http:
        issued, close = open_venue(VenueSpec("live", "http://paper.test"), 5.0, http=http, env=env)
        right = issued.credentials  # type: ignore[attr-defined]  # a LiveVenue
        close()
    wrong = "d3Jvbmctc2VjcmV0LWtleQ=="  # the issued key with a secret the venue never gave
    save_credentials(stored, ApiCredentials(right.api_key, wrong, right.passphrase, key.address))
    with TestClient(venue_app) as http:
        spec = VenueSpec("live", "http://paper.test", credentials_file=stored)
        live, close = open_venue(spec, 5.0, http=http, env=env)
        try:
            rt = make_runtime()
            rt.venue = live
            loop = Loop(rt)
            try:
                for _ in range(3):
                    loop.one_tick()
            finally:
                loop.teardown()
        finally:
            close()
    assert rt.tick == 3 and rt.halt is not None
    assert "AuthError" in section(rt)["operational_error"]
    assert shows_words(ctl_status(rt), "HALTED since")
    assert rt.counters.orders_created <= 1  # the refused one, rejected, and nothing after
    shown = json.dumps(section(rt))
    assert wrong not in shown and right.secret not in shown
