"""Slugs of the recurring Up/Down markets: `{asset}-updown-{5m|15m}-<window start unix seconds>`."""

from __future__ import annotations

import re
from dataclasses import dataclass

ASSETS: tuple[str, ...] = ("btc", "eth", "sol", "xrp")
#: Nominal length of each interval label, in seconds.
INTERVALS: dict[str, int] = {"5m": 300, "15m": 900}

_SLUG = re.compile(r"^(?P<asset>[a-z]+)-updown-(?P<interval>5m|15m)-(?P<start>\d{1,12})$")


@dataclass(frozen=True)
class SlugParts:
    asset: str
    interval: str
    start_ts: int


def window_slug(asset: str, interval: str, start_ts: int) -> str:
    if asset not in ASSETS:
        raise ValueError(f"unknown asset {asset!r}: expected one of {ASSETS}")
    if interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}: expected one of {tuple(INTERVALS)}")
    return f"{asset}-updown-{interval}-{int(start_ts)}"


def parse_slug(slug: str) -> SlugParts | None:
    """The parts of an Up/Down slug, or None for any other market."""
    match = _SLUG.match(slug)
    if match is None or match["asset"] not in ASSETS:
        return None
    return SlugParts(match["asset"], match["interval"], int(match["start"]))


def window_start(ts: float, length_s: int) -> int:
    """Start of the window of `length_s` seconds that contains `ts` (aligned to the length)."""
    return int(ts // length_s) * length_s
