"""Bearer-token checks: FastAPI dependencies for mutating routes, reads and the event stream.

401: no usable `Authorization: Bearer <token>` header; 403: a token that is not ours.
The comparison is constant-time (`secrets.compare_digest` on the UTF-8 bytes).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from control.api.config import ApiConfig
from control.api.errors import ApiError

bearer = HTTPBearer(
    auto_error=False,
    description="The Mission Control token: NEVERBLINK_API_TOKEN, else <home>/api_token",
)
ACTOR_HEADER = "x-neverblink-actor"
ACTOR_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
BASE_ACTOR = "api"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="neverblink"'}
MISSING = (
    "send Authorization: Bearer <token>; the token is NEVERBLINK_API_TOKEN, "
    "else the file api_token in the neverblink home"
)


def api_config(request: Request) -> ApiConfig:
    config: ApiConfig = request.app.state.api_config
    return config


def check(config: ApiConfig, presented: str | None) -> None:
    """Raise 401 for no token, 403 for a wrong one."""
    if not presented:
        raise ApiError(401, MISSING, headers=CHALLENGE)
    if not secrets.compare_digest(presented.encode(), config.token.encode()):
        raise ApiError(403, "the bearer token is not valid for this bot", headers=CHALLENGE)


def header_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; 401 for another kind of header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, f"malformed Authorization header: {MISSING}", headers=CHALLENGE)
    return value.strip()


def require_token(
    request: Request, _creds: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> str:
    """Dependency of every mutating route; returns the actor written to the audit log.

    `_creds` only declares the scheme in the OpenAPI document; the header is parsed here.
    """
    check(api_config(request), header_token(request))
    name = request.headers.get(ACTOR_HEADER, "")
    return f"{BASE_ACTOR}:{name}" if ACTOR_NAME.fullmatch(name) else BASE_ACTOR


def read_access(request: Request) -> None:
    """Dependency of the read routes: open unless the app was started with private reads."""
    config = api_config(request)
    if config.private_reads:
        check(config, header_token(request))


def stream_access(request: Request) -> None:
    """Like `read_access`, but EventSource cannot send headers: also takes `?token=`."""
    config = api_config(request)
    if config.private_reads:
        check(config, header_token(request) or request.query_params.get("token"))
