"""Reference prices in Redis (one stream per asset, deduped) and strikes recorded once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from state_store import transitions as t
from state_store.store import Store
from tests.state_store.conftest import make_window


def test_replicas_appending_the_same_points_add_each_once(store: Store) -> None:
    first = [(100.0, "95000.1"), (101.0, "95001.2")]
    assert store.run(t.append_prices(store.keys, "btc", first)).detail == "2"
    overlap = [(100.0, "95000.1"), (101.0, "95001.2"), (102.0, "95002.3")]
    assert store.run(t.append_prices(store.keys, "btc", overlap)).detail == "1"
    assert store.prices("btc", 0, 200) == [*overlap]
    assert store.prices("btc", 100.5, 101.0) == [(101.0, "95001.2")]
    entries = cast(list[Any], store.client.xrange(store.keys.prices("btc")))
    assert [e[0] for e in entries] == ["100000-0", "101000-0", "102000-0"]  # id = its timestamp


def test_the_stream_is_capped(store: Store) -> None:
    points = [(float(i), str(i)) for i in range(1, 501)]
    store.run(t.append_prices(store.keys, "eth", points, maxlen=100))
    assert 100 <= store.client.xlen(store.keys.prices("eth")) < 500


def test_a_strike_is_recorded_once_and_never_overwritten(store: Store) -> None:
    window = replace(make_window(), start_price="")
    store.open_window(window)
    note = store.run(t.strike_missing(store.keys, window.market, "stream down at the start"))
    assert note.outcome == "missing"
    recorded = store.run(t.record_strike(store.keys, window.market, "97000.5", 1764000000.0,
                                         "stream"))  # fmt: skip
    assert recorded.outcome == "recorded"
    again = store.run(t.record_strike(store.keys, window.market, "1", 1764000001.0, "stream"))
    assert (again.outcome, again.detail) == ("exists", "97000.5")
    store.run(t.strike_missing(store.keys, window.market, "late note"))
    stored = store.window(window.market)
    assert stored is not None
    assert (stored.start_price, stored.strike_source, stored.strike_ts) == (
        "97000.5", "stream", 1764000000.0)  # fmt: skip
    assert stored.strike_missing == ""
    assert store.run(t.record_strike(store.keys, "nope", "1", 0.0, "stream")).outcome == "no_window"


def test_a_venue_start_price_is_a_strike_from_the_venue(store: Store) -> None:
    window = make_window()  # start_price from the venue (the paper venue's extension)
    store.open_window(window)
    stored = store.window(window.market)
    assert stored is not None and stored.strike_source == "venue"
    result = store.run(t.record_strike(store.keys, window.market, "1", 0.0, "stream"))
    assert result.outcome == "exists"
