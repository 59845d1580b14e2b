"""Every error answers `{"error": <short>, "detail": <what happened, what to do>}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from filelock import Timeout as LockTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from control.commands import Refused, UsageError

log = logging.getLogger(__name__)

PHRASES = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request too large",
    415: "unsupported media type",
    422: "invalid request",
    500: "internal error",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by a route or a dependency; becomes one JSON error response."""

    def __init__(
        self,
        status: int,
        detail: Any,
        error: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(str(detail))
        self.status = status
        self.error = error or PHRASES.get(status, "error")
        self.detail = detail
        self.headers = dict(headers or {})


def error_response(
    status: int, detail: Any, error: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": error or PHRASES.get(status, "error"), "detail": jsonable_encoder(detail)}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.detail, exc.error, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail: Any = exc.detail
    if exc.status_code == 404:
        detail = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return error_response(exc.status_code, detail, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return error_response(422, errors)


async def _usage_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, str(exc), "invalid command")


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, str(exc), "refused")


async def _lock_timeout(request: Request, exc: Exception) -> JSONResponse:
    detail = f"control.json is locked by another writer ({exc}); retry in a moment"
    return error_response(503, detail, headers={"Retry-After": "1"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    detail = f"{type(exc).__name__} while serving {request.url.path}; see the server log"
    return error_response(500, detail)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(UsageError, _usage_error)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(LockTimeout, _lock_timeout)
    app.add_exception_handler(Exception, _unexpected)
