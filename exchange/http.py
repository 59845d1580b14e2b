"""One HTTP request to the venue: URL, L2 headers, retries within a deadline, typed errors.

Every call has a deadline (`timeout`, seconds, retries and waits included): a
venue that stops answering costs a caller at most that long, so a runner's
tick is never held by one call. Each attempt gets what is left of it as its
httpx timeout.

Retries (tenacity), for temporary failures only:

- connect errors: retried for every request (nothing reached the venue);
- timeouts, dropped connections and 5xx: retried only for idempotent
  requests (reads, cancels, and POST /order, whose deterministic order id
  makes a re-post return the existing order);
- 429: wait `Retry-After` (or the back-off) and try again, a bounded number of
  times and never longer than `max_retry_after_s` per wait, then `RateLimited`.

No retry or wait starts that would end past the deadline. Back-off is
exponential with full jitter, capped. `sleep` and `clock` are injectable so
tests never wait (the paper venue's 429 test moves its own clock in `sleep`).

tenacity rather than stamina: stamina (built on tenacity) takes no per-call
sleep and only a global testing switch, and one attempt budget; here 429 waits
and failures have separate budgets, a Retry-After decides the wait, and the
deadline is checked against the upcoming wait, which tenacity's hooks allow.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from exchange.auth import ApiCredentials, l2_headers
from exchange.errors import (
    NOT_ENOUGH,
    AccountRestricted,
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
    VenueError,
    VenueUnavailable,
)

logger = logging.getLogger(__name__)

Params = Mapping[str, str | int]
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)  # the request never reached the venue


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # extra tries after the first, for temporary failures
    backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    rate_limit_waits: int = 3  # 429s waited out before giving up
    max_retry_after_s: float = 5.0  # a longer Retry-After is not waited for: RateLimited at once


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or HTTP date); None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class CallBudget:
    """What one call may still spend: its deadline, its retries and its 429 waits."""

    def __init__(
        self, policy: RetryPolicy, deadline: float, clock: Callable[[], float], idempotent: bool
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.clock = clock
        self.idempotent = idempotent
        self.failures = 0
        self.waits = 0
        self._backoff = tenacity.wait_random_exponential(
            multiplier=policy.backoff_s, max=policy.max_backoff_s
        )

    def left(self) -> float:
        return self.deadline - self.clock()

    def may_retry(self, exc: BaseException) -> bool:
        """Is this failure worth another try at all (before counting and the deadline)?"""
        if isinstance(exc, RateLimited):
            return True
        if isinstance(exc, VenueUnavailable):
            return self.idempotent or not exc.sent
        return False

    def wait(self, state: tenacity.RetryCallState) -> float:
        exc = _failure(state)
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._backoff(state))

    def stop(self, state: tenacity.RetryCallState) -> bool:
        """Stop when the retries (or 429 waits) are used up or the wait would pass the deadline."""
        wait = state.upcoming_sleep
        if wait >= self.left():
            return True
        if isinstance(_failure(state), RateLimited):
            if self.waits >= self.policy.rate_limit_waits or wait > self.policy.max_retry_after_s:
                return True
            self.waits += 1
            return False
        if self.failures >= self.policy.retries:
            return True
        self.failures += 1
        return False


def _failure(state: tenacity.RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome is not None else None


class HttpSession:
    """Sends requests to one base URL and turns answers into JSON or typed errors."""

    def __init__(
        self,
        base_url: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 5.0,
        policy: RetryPolicy | None = None,
        credentials: ApiCredentials | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an explicit http(s) URL, got {base_url!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout  # the deadline of one call, retries included
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=httpx.Timeout(timeout))
        self.policy = policy or RetryPolicy()
        self.credentials = credentials
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        auth: bool = False,
        idempotent: bool = True,
    ) -> Any:
        """Send, retrying as the policy and the deadline allow; return the decoded JSON."""
        content = None if body is None else json.dumps(body, separators=(",", ":"))
        budget = CallBudget(self.policy, self._clock() + self.timeout, self._clock, idempotent)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(budget.may_retry),
            wait=budget.wait,
            stop=budget.stop,
            sleep=self._sleep,
            before_sleep=_log_retry(method, path),
            reraise=True,
        )
        return retrying(self._attempt, method, path, params, content, auth, budget)

    def _attempt(
        self,
        method: str,
        path: str,
        params: Params | None,
        content: str | None,
        auth: bool,
        budget: CallBudget,
    ) -> Any:
        left = budget.left()
        if left <= 0:
            raise VenueUnavailable(f"{method} {path}: no answer within {self.timeout:g}s")
        try:
            response = self._send(method, path, params, content, auth, left)
        except httpx.TransportError as exc:
            raise VenueUnavailable(
                f"{method} {path}: {exc!r}", sent=not isinstance(exc, NOT_SENT)
            ) from exc
        status = response.status_code
        if status == 429:
            raise RateLimited(
                f"{method} {path}: rate limited",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        restricted = _restriction(method, path, response)
        if restricted is not None:
            raise restricted
        if status >= 500:
            raise VenueUnavailable(
                f"{method} {path}: {status} {_error_text(response)}", status=status
            )
        if status >= 400:
            raise _client_error(method, path, response)
        return _decode(method, path, response)

    def _send(
        self,
        method: str,
        path: str,
        params: Params | None,
        content: str | None,
        auth: bool,
        timeout: float,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if auth and self.credentials is not None:
            headers.update(
                l2_headers(self.credentials, int(time.time()), method, path, content or "")
            )
        return self._http.request(
            method,
            self.base_url + path,
            params=params,
            content=content,
            headers=headers,
            timeout=httpx.Timeout(timeout),
        )


def _log_retry(method: str, path: str) -> Callable[[tenacity.RetryCallState], None]:
    def log(state: tenacity.RetryCallState) -> None:
        logger.warning(
            "venue %s %s failed (%s); retrying in %.2fs",
            method, path, _failure(state), state.upcoming_sleep,
        )  # fmt: skip

    return log


def _error_text(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(payload, dict):
        message = payload.get("error") or payload.get("errorMsg") or payload.get("detail")
        if message:
            return str(message)
    return response.text[:200]


def _restriction(method: str, path: str, response: httpx.Response) -> VenueError | None:
    """425 (engine restarting) and the 503s that mean "not now" (post-only, cancel-only)."""
    status = response.status_code
    if status not in (425, 503):
        return None
    text = _error_text(response)
    message = f"{method} {path}: {status} {text}"
    if status == 425:
        return EngineRestarting(message, status=status)
    code = _error_code(response)
    if code == "post_only_mode" or "post-only" in text.lower():
        return PostOnlyMode(message, status=status)
    if "cancel-only" in text.lower() or "cancel only" in text.lower():
        return CancelOnly(message, status=status)
    return None  # another 503: unavailable, retried as any 5xx


def _error_code(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    return str(payload.get("code", "")) if isinstance(payload, dict) else ""


def _client_error(method: str, path: str, response: httpx.Response) -> VenueError:
    status = response.status_code
    text = _error_text(response)
    if status == 401:
        return AuthError(f"{method} {path}: credentials refused: {text}", status=status)
    if status == 403:
        return AccountRestricted(f"{method} {path}: account may not trade: {text}", status=status)
    if status == 404:
        return NotFound(text, status=status)
    if method == "POST" and path in ("/order", "/orders"):
        if NOT_ENOUGH in text:
            return InsufficientBalance(text, status=status)
        return OrderRejected(text, status=status)
    return BadRequest(f"{method} {path}: {status} {text}", status=status)


def _decode(method: str, path: str, response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedResponse(f"{method} {path}: body is not JSON", status=200) from exc
