"""The venue boundary: the `Venue` interface, its records, the CLOB client, the paper venue.

The runner imports from here:

    from exchange import ClobClient, OrderRequest, Venue, VenueError
"""

from exchange.auth import DEFAULT_OWNER, ApiCredentials
from exchange.client import ClobClient
from exchange.errors import (
    AccountRestricted,
    AuthError,
    BadRequest,
    MalformedResponse,
    NotFound,
    OrderRejected,
    RateLimited,
    UnknownMarketSeries,
    VenueError,
    VenueUnavailable,
)
from exchange.http import RetryPolicy
from exchange.signing import LiveSigner, OrderSigner, PaperSigner, SignedOrder
from exchange.slugs import ASSETS, INTERVALS, parse_slug, window_slug, window_start
from exchange.types import (
    Book,
    Level,
    MarketWindow,
    OrderRequest,
    OrderType,
    Outcome,
    PlaceResult,
    PlaceStatus,
    ReferencePrice,
    Resolution,
    Side,
    VenueFill,
    VenueOrder,
    VenueOrderStatus,
)
from exchange.venue import Venue

__all__ = [
    "ASSETS",
    "DEFAULT_OWNER",
    "INTERVALS",
    "AccountRestricted",
    "ApiCredentials",
    "AuthError",
    "BadRequest",
    "Book",
    "ClobClient",
    "Level",
    "LiveSigner",
    "MalformedResponse",
    "MarketWindow",
    "NotFound",
    "OrderRejected",
    "OrderRequest",
    "OrderSigner",
    "OrderType",
    "Outcome",
    "PaperSigner",
    "PlaceResult",
    "PlaceStatus",
    "RateLimited",
    "ReferencePrice",
    "Resolution",
    "RetryPolicy",
    "Side",
    "SignedOrder",
    "UnknownMarketSeries",
    "Venue",
    "VenueError",
    "VenueFill",
    "VenueOrder",
    "VenueOrderStatus",
    "VenueUnavailable",
    "parse_slug",
    "window_slug",
    "window_start",
]
