"""Errors of the paper venue's HTTP API: always `{"error": "<message>"}` with a 4xx.

Handlers are installed for our `ApiError`, for FastAPI's validation errors
(malformed JSON, missing fields, wrong types -> 400), for HTTP errors raised
by routing (404, 405) and, last resort, for anything else (500 with the same
shape; the fuzz tests make sure that never happens for any input).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer. `body` replaces `{"error": message}` where the real venue differs."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.body = dict(body) if body is not None else None


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


def describe_validation(errors: Sequence[Any]) -> str:
    """One readable line for the first validation error: `Invalid payload: order.price: ...`."""
    if not errors:
        return "Invalid payload"
    first = errors[0]
    if not isinstance(first, dict):
        return "Invalid payload"
    if first.get("type") == "json_invalid":
        return "Invalid payload: malformed JSON"
    loc = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    if not loc and isinstance(first.get("input"), bytes):
        return "Invalid payload: expected a JSON body (Content-Type: application/json)"
    msg = str(first.get("msg", "invalid value"))
    return f"Invalid payload: {loc}: {msg}" if loc else f"Invalid payload: {msg}"


def install_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        if exc.body is not None:
            return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
        return error_response(exc.status, exc.message, exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, describe_validation(exc.errors()))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = str(exc.detail)
        if exc.status_code == 400:  # FastAPI: a body it could not even decode
            message = f"Invalid payload: {message}"
        return error_response(exc.status_code, message, exc.headers)

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("paper venue: unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
