"""L2 (API key) authentication headers of the CLOB.

POLY_SIGNATURE is HMAC-SHA256 over `timestamp + method + path + body`, keyed
with the url-safe base64 decoded secret, and sent url-safe base64 encoded.
`path` is the request path without the query string; `body` is the exact JSON
text sent (empty for requests without a body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

H_ADDRESS = "POLY_ADDRESS"
H_SIGNATURE = "POLY_SIGNATURE"
H_TIMESTAMP = "POLY_TIMESTAMP"
H_API_KEY = "POLY_API_KEY"
H_PASSPHRASE = "POLY_PASSPHRASE"


@dataclass(frozen=True)
class ApiCredentials:
    api_key: str
    secret: str  # url-safe base64
    passphrase: str = field(repr=False)
    address: str = ""  # the funder/maker address, sent as POLY_ADDRESS

    def __repr__(self) -> str:
        return f"ApiCredentials(api_key={self.api_key!r}, secret=***, address={self.address!r})"


def l2_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    key = base64.urlsafe_b64decode(secret)
    message = f"{timestamp}{method.upper()}{path}{body}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def l2_headers(
    creds: ApiCredentials, timestamp: int, method: str, path: str, body: str
) -> dict[str, str]:
    return {
        H_ADDRESS: creds.address,
        H_SIGNATURE: l2_signature(creds.secret, str(timestamp), method, path, body),
        H_TIMESTAMP: str(timestamp),
        H_API_KEY: creds.api_key,
        H_PASSPHRASE: creds.passphrase,
    }


def verify_l2(
    creds: ApiCredentials, headers: Mapping[str, str], method: str, path: str, body: str
) -> bool:
    """True when the headers carry this key's passphrase and a valid signature over the request."""
    timestamp = headers.get(H_TIMESTAMP, "")
    given = headers.get(H_SIGNATURE, "")
    if headers.get(H_API_KEY) != creds.api_key or not timestamp or not given:
        return False
    if not hmac.compare_digest(headers.get(H_PASSPHRASE, "").encode(), creds.passphrase.encode()):
        return False
    try:
        expected = l2_signature(creds.secret, timestamp, method, path, body)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


#: The identity the paper venue gives requests that carry no API key.
DEFAULT_OWNER = "paper"
