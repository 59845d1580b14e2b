"""The dashboard's files: a fixed table read from the package once, never a requested path."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

from control.api.errors import ApiError

PAGES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
    "/static/favicon.svg": ("favicon.svg", "image/svg+xml"),
}

router = APIRouter(include_in_schema=False)


def load_pages() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("control") / "static"
    return {route: ((folder / name).read_bytes(), kind) for route, (name, kind) in PAGES.items()}


def _page(request: Request) -> Response:
    pages: dict[str, tuple[bytes, str]] = request.app.state.pages
    found = pages.get(request.url.path)
    if found is None:  # pragma: no cover - every route below is in PAGES
        raise ApiError(404, f"no page {request.url.path}")
    body, kind = found
    return Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})


for _route in PAGES:
    router.add_api_route(_route, _page, methods=["GET"])
