"""Errors of the venue boundary, each saying what the caller should do.

`retryable` is the contract: True means "the same request may succeed later,
try again next tick" (nothing was decided by the venue, or it was and the
request is idempotent); False means "the venue said no: record it, do not
resend unchanged".
"""

from __future__ import annotations

from typing import ClassVar


class VenueError(Exception):
    """Base of every venue failure. `status` is the HTTP status when there was one."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class VenueUnavailable(VenueError):
    """Could not get an answer (connect error, timeout, 5xx) after the allowed retries."""

    retryable = True


class RateLimited(VenueError):
    """429 after the allowed waits. `retry_after` is the venue's hint in seconds, if any."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None, status: int = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class OrderRejected(VenueError):
    """The venue refused an order (4xx on POST /order): `message` is its errorMsg."""


class AuthError(VenueError):
    """401/403: credentials missing, wrong, or not allowed. Stop and alert."""


class NotFound(VenueError):
    """404: the market, book or order does not exist (or no longer does)."""


class BadRequest(VenueError):
    """Another 4xx: the request was malformed. A bug on our side; do not resend unchanged."""


class MalformedResponse(VenueError):
    """The venue answered 2xx with a body we cannot read."""

    retryable = True
