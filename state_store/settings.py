"""Process-wide settings: flag first, then environment, then default.

Every command resolves the same settings; the CLI passes flags in and
everything below works from a `Settings` value, never from os.environ itself.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ENV_HOME = "NEVERBLINK_HOME"
ENV_REDIS_URL = "NEVERBLINK_REDIS_URL"
ENV_JOBS_REDIS_URL = "NEVERBLINK_JOBS_REDIS_URL"
ENV_BOT = "NEVERBLINK_BOT"
ENV_STRATEGIES = "NEVERBLINK_STRATEGIES"
ENV_API_TOKEN = "NEVERBLINK_API_TOKEN"

DEFAULT_HOME = ".neverblink"
DEFAULT_BOT = "default"
DEFAULT_STRATEGIES = "strategies"


@dataclass(frozen=True)
class Settings:
    """Where a bot's files live, which Redis holds its state, and its name.

    `jobs_redis_url`: the Redis of the rq job queue when it is not `redis_url`
    (required when `redis_url` is a Cluster: rq needs one plain Redis).
    """

    home: Path
    redis_url: str | None
    bot: str
    strategies: Path
    jobs_redis_url: str | None = None

    @classmethod
    def resolve(
        cls,
        home: str | None = None,
        redis_url: str | None = None,
        bot: str | None = None,
        strategies: str | None = None,
        jobs_redis_url: str | None = None,
    ) -> Settings:
        """Build settings from explicit values, falling back to env vars and defaults."""
        resolved_home = home or os.environ.get(ENV_HOME) or DEFAULT_HOME
        resolved_bot = bot or os.environ.get(ENV_BOT) or DEFAULT_BOT
        validate_bot_name(resolved_bot)
        return cls(
            home=Path(resolved_home).expanduser().absolute(),
            redis_url=redis_url or os.environ.get(ENV_REDIS_URL) or None,
            bot=resolved_bot,
            strategies=Path(
                strategies or os.environ.get(ENV_STRATEGIES) or DEFAULT_STRATEGIES
            ).absolute(),
            jobs_redis_url=jobs_redis_url or os.environ.get(ENV_JOBS_REDIS_URL) or None,
        )

    @property
    def control_file(self) -> Path:
        return self.home / "control.json"

    @property
    def status_file(self) -> Path:
        return self.home / "status.json"

    @property
    def audit_file(self) -> Path:
        return self.home / "audit.jsonl"

    @property
    def redis_dir(self) -> Path:
        return self.home / "redis"

    def api_token(self) -> str:
        """The Mission Control token: env var, else `<home>/api_token` (created 0600 once)."""
        from_env = os.environ.get(ENV_API_TOKEN)
        if from_env:
            return from_env
        path = self.home / "api_token"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32))
        return path.read_text().strip()


def validate_bot_name(bot: str) -> None:
    """A bot name becomes part of every key: keep it short and free of key syntax."""
    if not bot or len(bot) > 64 or any(c in bot for c in "{}: \t\n"):
        raise ValueError(
            f"invalid bot name {bot!r}: use 1-64 chars without braces, colons or spaces"
        )
