"""`run`'s stream options: which streams a runner gets, and the paper venue's book hashes."""

from __future__ import annotations

import click
import pytest

from control.cli_stream_options import StreamChoice


def test_no_url_no_streams() -> None:
    assert StreamChoice().feed_config() is None


def test_market_stream_with_its_stale_limit_and_the_paper_venues_hashes() -> None:
    choice = StreamChoice(market_ws="ws://127.0.0.1:9/ws/market", book_stale_s=2.5)
    config = choice.feed_config()
    assert config is not None
    assert (config.market_url, config.user_url, config.price_url) == (choice.market_ws, "", "")
    assert config.stale_after_s == 2.5 and not config.verify_hash  # the live venue: no hash
    hashed = choice.hashed(True).feed_config()  # `run --venue paper`
    assert hashed is not None and hashed.verify_hash


def test_a_url_that_is_not_a_websocket_is_refused() -> None:
    with pytest.raises(click.BadParameter):
        StreamChoice(market_ws="http://127.0.0.1:9/ws/market").feed_config()
