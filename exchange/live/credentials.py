"""API credentials stored 0600 in the home (`neverblink account init` writes them).

The file holds the API key, secret and passphrase as JSON. Reading refuses a
file others can read; errors name the file, never its content.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from exchange.auth import ApiCredentials
from exchange.factory import CREDENTIALS_FILE
from exchange.live.keys import SigningKeyError

__all__ = ["CREDENTIALS_FILE", "load_credentials", "save_credentials"]


def save_credentials(path: Path, creds: ApiCredentials) -> None:
    """Write atomically with mode 0600 (the temporary file is 0600 from its creation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(
            {
                "api_key": creds.api_key,
                "secret": creds.secret,
                "passphrase": creds.passphrase,
                "address": creds.address,
            },
            f,
        )
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_credentials(path: Path) -> ApiCredentials | None:
    """The stored credentials, or None when there is no file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"credentials file {path} is readable by others: chmod 600 {path}")
    try:
        raw = json.loads(path.read_text())
        return ApiCredentials(
            str(raw["api_key"]), str(raw["secret"]), str(raw["passphrase"]), str(raw["address"])
        )
    except (ValueError, KeyError, TypeError):
        raise SigningKeyError(
            f"credentials file {path} is unreadable: run `neverblink account init`"
        ) from None
