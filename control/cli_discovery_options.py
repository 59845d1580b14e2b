"""The options of window discovery (`run`): Gamma's URL and the series to find there.

- paper venue: discovery is on by default, on the paper venue's own Gamma-like
  routes (`--venue-url`), for every series it runs (`/paper/info`);
- live venue: discovery needs an explicit `--gamma-url` and `--series` (no URL
  that reaches a real host is assumed); without `--gamma-url` the runner lists
  the CLOB's markets every tick, as it did before discovery, and says so;
- `--list-markets`: no discovery, list the venue's markets every tick.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from control.cli_venue_options import VenueChoice

if TYPE_CHECKING:
    from runner.discovery import DiscoveryConfig

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiscoveryChoice:
    gamma_url: str | None = None
    series: str | None = None
    window_seconds: int | None = None
    retry_s: float = 60.0
    list_markets: bool = False

    def config(self, venue: VenueChoice) -> DiscoveryConfig | None:
        """What to discover, or None to list the venue's markets every tick."""
        from runner.discovery import DiscoveryConfig, parse_series

        if self.list_markets:
            return None
        url = self.gamma_url or (venue.paper_url if venue.kind == "paper" else None)
        if not url:
            log.warning("no --gamma-url: the runner lists the venue's markets every tick")
            return None
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter("must be an http(s) URL", param_hint="--gamma-url")
        try:
            series = parse_series(self.series) if self.series else ()
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--series") from None
        if venue.kind == "live" and not series:
            raise click.UsageError("--gamma-url with --venue live needs --series (e.g. btc-5m)")
        lengths = None
        if self.window_seconds is not None:
            lengths = {"5m": self.window_seconds, "15m": 3 * self.window_seconds}
        return DiscoveryConfig(url, series, lengths, retry_after_s=self.retry_s)


def discovery_options(func: F) -> F:
    """Add --gamma-url/--series/--window-seconds/--unlisted-retry-s/--list-markets; passes
    `discovery: DiscoveryChoice`."""

    @click.option(
        "--gamma-url",
        envvar="NEVERBLINK_GAMMA_URL",
        default=None,
        help="Gamma API base URL: windows found by slug before they open (paper: default "
        "the paper venue's; live: no default, without it the CLOB's markets are listed)",
    )
    @click.option(
        "--series",
        envvar="NEVERBLINK_SERIES",
        default=None,
        help="Series to trade, asset-interval, comma separated (e.g. btc-5m,eth-15m); "
        "paper default: every series of the venue",
    )
    @click.option(
        "--window-seconds",
        type=click.IntRange(min=2),
        default=None,
        help="Length of the 5m windows (15m: 3x), for a paper venue run with --window-seconds "
        "(default: the paper venue's own, else 300)",
    )
    @click.option(
        "--unlisted-retry-s",
        type=click.FloatRange(min=0.1),
        default=60.0,
        show_default=True,
        help="A window Gamma does not list is asked again after this long",
    )
    @click.option(
        "--list-markets",
        is_flag=True,
        default=False,
        help="No discovery: list the venue's markets every tick",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        gamma_url: str | None,
        series: str | None,
        window_seconds: int | None,
        unlisted_retry_s: float,
        list_markets: bool,
        **kwargs: Any,
    ) -> Any:
        kwargs["discovery"] = DiscoveryChoice(
            gamma_url, series, window_seconds, unlisted_retry_s, list_markets
        )
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
