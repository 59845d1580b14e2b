"""Waiting for a local HTTP service to answer (benchmarks and tests start real processes)."""

from __future__ import annotations

import time

import httpx


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Return once `url` answers with anything below 500; RuntimeError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=0.5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")
