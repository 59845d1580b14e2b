"""API keys the paper venue issues (L1 auth) and checks (L2 auth), kept in its Redis.

L1: POST /auth/api-key and GET /auth/derive-api-key carry POLY_ADDRESS,
POLY_SIGNATURE, POLY_TIMESTAMP and POLY_NONCE; the signature is the
`ClobAuth` EIP-712 message (typed data built by polymarket-client, signer
recovered by eth-account). Credentials are derived from a per-venue secret,
the address and the nonce, so "derive" gives back what "create" issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from typing import cast

import redis
from eth_account import Account
from eth_account.messages import encode_typed_data
from polymarket._internal.l1_auth import build_api_key_auth_typed_data

from exchange.auth import ApiCredentials
from exchange.paper.errors import ApiError
from state_store.keys import VenueKeys

INVALID_L1 = "Invalid L1 Request headers"
MAX_CLOCK_SKEW_S = 300
_NS = uuid.UUID("3c1b6a52-8f0e-4d7b-9a0c-5e2f1d4b7a61")


class ApiKeyStore:
    def __init__(self, client: redis.Redis, keys: VenueKeys, chain_id: int) -> None:
        self.redis = client
        self.keys = keys
        self.chain_id = chain_id

    def _venue_secret(self) -> bytes:
        self.redis.hsetnx(self.keys.meta, "api_secret", secrets.token_hex(32))
        return bytes.fromhex(cast(str, self.redis.hget(self.keys.meta, "api_secret")))

    def derive(self, address: str, nonce: int) -> ApiCredentials:
        """The credentials of (address, nonce), stored so L2 requests can be checked."""
        seed = hmac.new(
            self._venue_secret(), f"{address.lower()}:{nonce}".encode(), hashlib.sha256
        ).digest()
        creds = ApiCredentials(
            api_key=str(uuid.uuid5(_NS, seed.hex())),
            secret=base64.urlsafe_b64encode(hashlib.sha256(b"secret" + seed).digest()).decode(),
            passphrase=hashlib.sha256(b"passphrase" + seed).hexdigest(),
            address=address,
        )
        record = {"secret": creds.secret, "passphrase": creds.passphrase, "address": address}
        self.redis.hset(self.keys.api_keys, creds.api_key, json.dumps(record))
        self.redis.sadd(self.keys.api_key_owners, f"{address.lower()}:{nonce}")
        return creds

    def create(self, address: str, nonce: int) -> ApiCredentials:
        """A new key for (address, nonce); 400 when it exists (clients then derive it)."""
        if not self.redis.sadd(self.keys.api_key_owners, f"{address.lower()}:{nonce}"):
            raise ApiError(400, "Could not create api key")
        return self.derive(address, nonce)

    def lookup(self, api_key: str) -> ApiCredentials | None:
        raw = cast(str | None, self.redis.hget(self.keys.api_keys, api_key))
        if raw is None:
            return None
        record = json.loads(raw)
        return ApiCredentials(
            api_key=api_key,
            secret=record["secret"],
            passphrase=record["passphrase"],
            address=record["address"],
        )

    def keys_of(self, address: str) -> list[str]:
        found = cast(dict[str, str], self.redis.hgetall(self.keys.api_keys))
        return sorted(
            k for k, v in found.items() if json.loads(v)["address"].lower() == address.lower()
        )

    def delete(self, api_key: str) -> None:
        creds = self.lookup(api_key)
        self.redis.hdel(self.keys.api_keys, api_key)
        if creds is not None:
            for nonce_marker in cast(set[str], self.redis.smembers(self.keys.api_key_owners)):
                if nonce_marker.startswith(creds.address.lower() + ":"):
                    self.redis.srem(self.keys.api_key_owners, nonce_marker)


def verify_l1(headers: Mapping[str, str], chain_id: int, now: float) -> tuple[str, int]:
    """(address, nonce) of a valid L1 request; ApiError(401) otherwise."""
    address = headers.get("POLY_ADDRESS", "")
    signature = headers.get("POLY_SIGNATURE", "")
    timestamp = headers.get("POLY_TIMESTAMP", "")
    nonce_text = headers.get("POLY_NONCE", "0") or "0"
    if not (address and signature and timestamp.isdigit() and nonce_text.isdigit()):
        raise ApiError(401, INVALID_L1)
    if abs(int(timestamp) - now) > MAX_CLOCK_SKEW_S:
        raise ApiError(401, INVALID_L1)
    nonce = int(nonce_text)
    try:
        typed = build_api_key_auth_typed_data(
            address=address, chain_id=chain_id, timestamp=int(timestamp), nonce=nonce
        )
        recovered = str(
            Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
        )
    except Exception:  # malformed address or signature: eth-account raises several types
        raise ApiError(401, INVALID_L1) from None
    if recovered.lower() != address.lower():
        raise ApiError(401, INVALID_L1)
    return recovered, nonce


def creds_json(creds: ApiCredentials) -> dict[str, str]:
    return {"apiKey": creds.api_key, "secret": creds.secret, "passphrase": creds.passphrase}
