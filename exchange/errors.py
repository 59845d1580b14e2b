"""Errors of the venue boundary, each saying what the caller should do.

Every venue error is a `VenueError` (a `state_store.errors.NeverblinkError`); its kind is
the contract:

- `TemporaryError` (`VenueUnavailable`, `RateLimited`, `MalformedResponse`): the same
  request may succeed later. `exchange.http` already retried it within the call's
  deadline where the request is idempotent; the caller counts it and tries next tick.
- `OperationalError` (`AuthError`, `AccountRestricted`, `UnknownMarketSeries`): no retry
  helps until an operator acts. The runner stops placing orders and says why.
- `TradingRestricted` (`EngineRestarting` 425, `PostOnlyMode`, `CancelOnly`,
  `TradingDisabled`: 503): temporary, but the venue placed nothing and takes no
  new orders for a while; the runner stops placing until the restriction passes
  (`runner.venue_faults`).
- no kind (`OrderRejected`, `InsufficientBalance`, `NotFound`, `BadRequest`): the venue
  said no to this one request. Record it; do not resend it unchanged.
"""

from __future__ import annotations

from state_store.errors import NeverblinkError, OperationalError, TemporaryError


class VenueError(NeverblinkError):
    """Base of every venue failure. `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class VenueUnavailable(VenueError, TemporaryError):
    """No answer within the call's deadline (connect error, timeout, 5xx), retries included.

    `sent` is False when the request surely never reached the venue (connection refused):
    then even a non-idempotent request may be sent again.
    """

    def __init__(self, message: str, *, status: int | None = None, sent: bool = True) -> None:
        super().__init__(message, status=status)
        self.sent = sent


class RateLimited(VenueError, TemporaryError):
    """429 after the allowed waits. `retry_after` is the venue's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None, status: int = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class MalformedResponse(VenueError, TemporaryError):
    """The venue answered 2xx with a body we cannot read."""


class AuthError(VenueError, OperationalError):
    """401: the venue does not accept our API credentials. Fix them, then restart or resume."""


class AccountRestricted(VenueError, OperationalError):
    """403: the credentials are known but the account may not trade (region, closed-only)."""


class UnknownMarketSeries(VenueError, OperationalError):
    """A configured market series (e.g. `btc-updown-5m`) does not exist at the venue."""


class OrderRejected(VenueError):
    """The venue refused an order (4xx on POST /order): `message` is its errorMsg."""


class NotFound(VenueError):
    """404: the market, book or order does not exist (or no longer does)."""


class BadRequest(VenueError):
    """Another 4xx: the request was malformed. A bug on our side; do not resend unchanged."""


class InsufficientBalance(OrderRejected):
    """`not enough balance / allowance`: do not resend until the balance changed.

    The venue's balance cache lags fills; `GET /balance-allowance/update` refreshes it.
    """


class TradingRestricted(VenueError, TemporaryError):
    """The venue takes no new orders for now (this one was not placed); cancels may pass."""

    retryable = True
    restriction = "restricted"


class EngineRestarting(TradingRestricted):
    """425: the matching engine is restarting (weekly, ~90 s); a post-only period follows."""

    restriction = "restarting"


class PostOnlyMode(TradingRestricted):
    """After a restart, only post-only orders and cancels are accepted for a while."""

    restriction = "post_only"


class CancelOnly(TradingRestricted):
    """503 cancel-only: new orders refused, cancels accepted."""

    restriction = "cancel_only"


class TradingDisabled(TradingRestricted):
    """503: trading is disabled, cancels included."""

    restriction = "disabled"


NOT_ENOUGH = "not enough balance / allowance"
