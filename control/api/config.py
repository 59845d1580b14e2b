"""Options of one Mission Control app (what `neverblink serve` turns its flags into)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY_BYTES = 64 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class ApiConfig:
    """`token` guards every mutating route (and every read when `private_reads`)."""

    token: str
    allowed_hosts: tuple[str, ...] | None = None  # Host header check; None: any host
    cors_origins: tuple[str, ...] = ()  # no CORS headers at all unless set
    max_body_bytes: int = MAX_BODY_BYTES
    private_reads: bool = False
    poll_interval_s: float = 1.0  # how often each /api/events stream looks for changes
    keepalive_s: float = 15.0  # an SSE comment when nothing changed for this long
    stream_max_s: float = 600.0  # a stream ends after this; EventSource reconnects
    max_streams: int = 32  # concurrent /api/events connections

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("the API token must not be empty")
        if self.poll_interval_s <= 0 or self.max_body_bytes <= 0 or self.max_streams <= 0:
            raise ValueError("poll_interval_s, max_body_bytes and max_streams must be > 0")
