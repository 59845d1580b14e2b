"""What the live venue's refusals mean for the caller, as `exchange.errors.VenueError`s.

polymarket-client raises its own errors; `translate` turns each into ours, so
the runner sees one hierarchy. The venue's states an operator must know about
get their own class: the weekly engine restart (425), its post-only period,
cancel-only and disabled trading (503), and balance/allowance refusals.
"""

from __future__ import annotations

from polymarket.errors import (
    PolymarketError,
    RateLimitError,
    RequestRejectedError,
    SigningError,
    TransportError,
    UnexpectedResponseError,
    UserInputError,
)

from exchange.errors import (
    NOT_ENOUGH,
    AuthError,
    BadRequest,
    CancelOnly,
    EngineRestarting,
    InsufficientBalance,
    MalformedResponse,
    NotFound,
    OrderRejected,
    PostOnlyMode,
    RateLimited,
    TradingDisabled,
    TradingRestricted,
    VenueError,
    VenueUnavailable,
)

__all__ = [
    "CancelOnly",
    "EngineRestarting",
    "InsufficientBalance",
    "PostOnlyMode",
    "SigningFailed",
    "TradingDisabled",
    "TradingRestricted",
    "translate",
]

ORDER_PATHS = ("/order", "/orders")


class SigningFailed(VenueError):
    """The order or request could not be signed (a key or wallet problem). Stop and alert."""


def translate(exc: PolymarketError, method: str, path: str) -> VenueError:
    """Our error for an SDK error raised by `method path` (the message names no secret)."""
    where = f"{method} {path}"
    if isinstance(exc, RequestRejectedError):
        return _rejected(exc, method, path)
    if isinstance(exc, RateLimitError):
        return RateLimited(f"{where}: rate limited", retry_after=exc.retry_after)
    if isinstance(exc, TransportError):
        return VenueUnavailable(f"{where}: {exc}")
    if isinstance(exc, UnexpectedResponseError):
        return MalformedResponse(f"{where}: {exc}")
    if isinstance(exc, SigningError):
        return SigningFailed(f"{where}: signing failed")
    if isinstance(exc, UserInputError):
        return BadRequest(f"{where}: {exc}")
    return VenueError(f"{where}: {type(exc).__name__}")


def _rejected(exc: RequestRejectedError, method: str, path: str) -> VenueError:
    status, text = exc.status, str(exc)
    message = f"{method} {path}: {status} {text}"
    if status == 425 or exc.restriction == "restarting":
        return EngineRestarting(message, status=status)
    if exc.restriction == "post_only":
        return PostOnlyMode(message, status=status)
    if exc.restriction == "cancel_only":
        return CancelOnly(message, status=status)
    if status == 503:
        return TradingDisabled(message, status=status)
    if status >= 500:
        return VenueUnavailable(message, status=status)
    if status in (401, 403):
        return AuthError(message, status=status)
    if status == 404:
        return NotFound(text, status=status)
    if NOT_ENOUGH in text:
        return InsufficientBalance(text, status=status)
    if method == "POST" and path in ORDER_PATHS:
        return OrderRejected(text, status=status)
    return BadRequest(message, status=status)
