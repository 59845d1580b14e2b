"""One HTTP request to the venue: URL, L2 headers, retries, 429 back-off, typed errors.

Retries: httpx's transport retries cover connect errors only, so one small
loop handles every case the same way, whoever built the `httpx.Client`:

- connect errors: retried for every request (nothing reached the venue);
- timeouts, dropped connections and 5xx: retried only for idempotent
  requests (reads, cancels, and POST /order, whose deterministic order id
  makes a re-post return the existing order);
- 429: wait `Retry-After` (or the back-off) and try again, a bounded number of
  times and never longer than `max_retry_after_s` per wait, then `RateLimited`.

Back-off is exponential with jitter, capped. The `sleep` is injectable so tests never wait.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from exchange.auth import ApiCredentials, l2_headers
from exchange.errors import (
    AuthError,
    BadRequest,
    MalformedResponse,
    NotFound,
    OrderRejected,
    RateLimited,
    VenueError,
    VenueUnavailable,
)

logger = logging.getLogger(__name__)

Params = Mapping[str, str | int]


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # extra tries after the first, for retryable failures
    backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    rate_limit_waits: int = 3  # 429s waited out before giving up
    max_retry_after_s: float = 5.0  # a longer Retry-After is not waited for: RateLimited at once

    def backoff(self, attempt: int) -> float:
        base: float = min(self.max_backoff_s, self.backoff_s * (2**attempt))
        return base * (0.5 + random.random() / 2)


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
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an explicit http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=httpx.Timeout(timeout))
        self.policy = policy or RetryPolicy()
        self.credentials = credentials
        self._sleep = sleep

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
        """Send once, retrying as the policy allows; return the decoded JSON (None when empty)."""
        content = None if body is None else json.dumps(body, separators=(",", ":"))
        failures = 0
        waits = 0
        while True:
            try:
                response = self._send(method, path, params, content, auth)
            except httpx.TransportError as exc:
                retry = idempotent or isinstance(exc, httpx.ConnectError)
                if retry and failures < self.policy.retries:
                    self._pause(self.policy.backoff(failures), method, path, repr(exc))
                    failures += 1
                    continue
                raise VenueUnavailable(f"{method} {path}: {exc!r}") from exc
            status = response.status_code
            if status == 429:
                wait = self._rate_limit_wait(response, waits)
                if wait is None:
                    raise RateLimited(
                        f"{method} {path}: rate limited",
                        retry_after=parse_retry_after(response.headers.get("Retry-After")),
                    )
                self._pause(wait, method, path, "429")
                waits += 1
                continue
            if status >= 500:
                if idempotent and failures < self.policy.retries:
                    self._pause(self.policy.backoff(failures), method, path, str(status))
                    failures += 1
                    continue
                raise VenueUnavailable(
                    f"{method} {path}: {status} {_error_text(response)}", status=status
                )
            if status >= 400:
                raise _client_error(method, path, response)
            return _decode(method, path, response)

    def _send(
        self, method: str, path: str, params: Params | None, content: str | None, auth: bool
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if auth and self.credentials is not None:
            headers.update(
                l2_headers(self.credentials, int(time.time()), method, path, content or "")
            )
        return self._http.request(
            method, self.base_url + path, params=params, content=content, headers=headers
        )

    def _rate_limit_wait(self, response: httpx.Response, waits: int) -> float | None:
        if waits >= self.policy.rate_limit_waits:
            return None
        hinted = parse_retry_after(response.headers.get("Retry-After"))
        wait = self.policy.backoff(waits) if hinted is None else hinted
        return None if wait > self.policy.max_retry_after_s else wait

    def _pause(self, seconds: float, method: str, path: str, why: str) -> None:
        logger.warning("venue %s %s failed (%s); retrying in %.2fs", method, path, why, seconds)
        self._sleep(seconds)


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


def _client_error(method: str, path: str, response: httpx.Response) -> VenueError:
    status = response.status_code
    text = _error_text(response)
    if status in (401, 403):
        return AuthError(f"{method} {path}: {text}", status=status)
    if status == 404:
        return NotFound(text, status=status)
    if method == "POST" and path == "/order":
        return OrderRejected(text, status=status)
    return BadRequest(f"{method} {path}: {status} {text}", status=status)


def _decode(method: str, path: str, response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedResponse(f"{method} {path}: body is not JSON", status=200) from exc
