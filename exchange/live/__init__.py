"""The live venue: Polymarket's CLOB V2 through polymarket-client (see docs/live.md)."""

from exchange.live.errors import (
    CancelOnly,
    EngineRestarting,
    InsufficientBalance,
    PostOnlyMode,
    SigningFailed,
    TradingDisabled,
    TradingRestricted,
)
from exchange.live.keys import SigningKeyError, load_account
from exchange.live.metadata import MarketMeta, MetadataCache
from exchange.live.sdk_env import sdk_environment
from exchange.live.venue import LiveVenue

__all__ = [
    "CancelOnly",
    "EngineRestarting",
    "InsufficientBalance",
    "LiveVenue",
    "MarketMeta",
    "MetadataCache",
    "PostOnlyMode",
    "SigningFailed",
    "SigningKeyError",
    "TradingDisabled",
    "TradingRestricted",
    "load_account",
    "sdk_environment",
]
