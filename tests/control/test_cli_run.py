from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from control.cli import main
from control.cli_discovery_options import DiscoveryChoice
from control.cli_venue_options import VenueChoice


def test_run_help_lists_strategy_filter_and_folder() -> None:
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0, result.output
    assert "--strategy TEXT" in result.output and "--strategies TEXT" in result.output


def test_run_refuses_a_non_positive_tick(tmp_path: object) -> None:
    result = CliRunner().invoke(
        main, ["run", "--replica", "r1", "--tick", "0", "--redis-url", "redis://127.0.0.1:1/0"]
    )
    assert result.exit_code == 2 and "--tick" in result.output


def _clean_env(monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    for name in ("NEVERBLINK_CLOB_URL", "NEVERBLINK_PRIVATE_KEY", "NEVERBLINK_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


#: `run` and `worker` share the venue options (control/cli_venue_options.py)
LIVE_COMMANDS = pytest.mark.parametrize(
    "command", [["run", "--replica", "r1"], ["worker"]], ids=["run", "worker"]
)


@LIVE_COMMANDS
def test_run_live_refuses_without_a_clob_url(
    monkeypatch: object, tmp_path: object, command: list[str]
) -> None:
    _clean_env(monkeypatch)
    args = [*command, "--venue", "live", "--home", str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--redis-url", "redis://127.0.0.1:1/0"])
    assert result.exit_code == 2
    assert "--clob-url" in result.output and "no live URL is assumed" in result.output


@LIVE_COMMANDS
def test_run_live_refuses_without_a_key_and_touches_no_host(
    monkeypatch: object, tmp_path: object, command: list[str]
) -> None:
    _clean_env(monkeypatch)
    args = [*command, "--venue", "live", "--home", str(tmp_path)]
    args += ["--clob-url", "http://127.0.0.1:1", "--redis-url", "redis://127.0.0.1:1/0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "no signing key" in result.output and "NEVERBLINK_PRIVATE_KEY" in result.output


@pytest.mark.parametrize("command", ["run", "worker"])
def test_run_has_no_private_key_option(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert "--clob-url" in result.output and "polymarket.com" not in result.output
    options = [w for w in result.output.split() if w.startswith("--")]
    assert not [o for o in options if "key" in o or "secret" in o], options


PAPER = VenueChoice("paper", "http://127.0.0.1:8790", (None, "EOA", None))
LIVE = VenueChoice("live", "http://127.0.0.1:8790", ("http://clob.test", "EOA", None))


def test_discovery_is_on_by_default_on_the_paper_venues_own_gamma_routes() -> None:
    config = DiscoveryChoice().config(PAPER)
    assert config is not None and config.gamma_url == PAPER.paper_url
    assert config.series == () and config.lengths is None  # the venue's own (/paper/info)
    assert DiscoveryChoice(list_markets=True).config(PAPER) is None


def test_live_discovery_needs_an_explicit_gamma_url_and_series() -> None:
    assert DiscoveryChoice().config(LIVE) is None  # no URL assumed: the CLOB is listed
    with pytest.raises(click.UsageError, match="--series"):
        DiscoveryChoice(gamma_url="http://gamma.test").config(LIVE)
    config = DiscoveryChoice("http://gamma.test", "btc-5m, ETH-15m", 20).config(LIVE)
    assert config is not None and config.series == (("btc", "5m"), ("eth", "15m"))
    assert config.lengths == {"5m": 20, "15m": 60}
    for series in ("doge-5m", "btc-1h", ","):
        with pytest.raises(click.BadParameter):
            DiscoveryChoice("http://gamma.test", series).config(LIVE)
    with pytest.raises(click.BadParameter, match="http"):
        DiscoveryChoice("gamma.test", "btc-5m").config(LIVE)
