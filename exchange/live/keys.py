"""Loading the signing key: from an environment variable or a 0600 file, never a flag.

Errors say what is wrong with the key's source, never the key.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from exchange.errors import VenueError

KEY_ENV = "NEVERBLINK_PRIVATE_KEY"
KEY_FILE_ENV = "NEVERBLINK_PRIVATE_KEY_FILE"


class SigningKeyError(VenueError):
    """No usable signing key: say where it was looked for, never what was found."""


def load_account(env: Mapping[str, str] | None = None) -> LocalAccount:
    """The key from $NEVERBLINK_PRIVATE_KEY, else from the file $NEVERBLINK_PRIVATE_KEY_FILE."""
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        return account_from_text(env[KEY_ENV], f"${KEY_ENV}")
    path = env.get(KEY_FILE_ENV)
    if path:
        return account_from_file(Path(path))
    raise SigningKeyError(
        f"no signing key: set ${KEY_ENV} or ${KEY_FILE_ENV} (a file of mode 0600)"
    )


def account_from_file(path: Path) -> LocalAccount:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise SigningKeyError(f"key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"key file {path} is readable by others: chmod 600 {path}")
    return account_from_text(path.read_text(), f"key file {path}")


def account_from_text(text: str, source: str) -> LocalAccount:
    try:
        account: LocalAccount = Account.from_key(text.strip())
    except Exception:  # eth-account's messages may quote the input: do not chain them
        raise SigningKeyError(f"{source} is not a 32-byte hex private key") from None
    return account
