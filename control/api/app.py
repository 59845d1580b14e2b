"""`create_app(settings, config)`: Mission Control as a FastAPI app."""

from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from control.api import metrics, pages, routes, sse
from control.api.config import ApiConfig
from control.api.errors import install_handlers
from control.api.middleware import BodyLimit, SecurityHeaders
from control.api.responses import Health
from control.service import ControlService
from state_store.settings import Settings

DESCRIPTION = """Mission Control of one neverblink bot: the same commands as `neverblink ctl`.

Mutating routes need `Authorization: Bearer <token>` (NEVERBLINK_API_TOKEN, else
`<home>/api_token`). With Redis down, reads answer from status.json/control.json
(`"plane": "file"`) and commands write control.json alone."""


def create_app(
    settings: Settings, config: ApiConfig, service: ControlService | None = None
) -> FastAPI:
    """The app for the bot of `settings`; `service` defaults to a ControlService of it."""
    app = FastAPI(title="neverblink Mission Control", description=DESCRIPTION, version="1")
    service = service or ControlService(settings)
    app.state.service = service
    app.state.api_config = config
    app.state.registry = metrics.make_registry(service)
    app.state.stream_slots = sse.StreamSlots(config.max_streams)
    app.state.stopping = threading.Event()  # set by sse.stop_streams at shutdown
    app.state.pages = pages.load_pages()
    install_handlers(app)
    app.include_router(routes.router)
    app.include_router(routes.reads)
    app.include_router(sse.router)
    app.include_router(metrics.router)
    app.include_router(pages.router)
    app.add_api_route("/healthz", _healthz, methods=["GET"], tags=["read"], summary="Liveness")
    _middleware(app, config)
    return app


def _middleware(app: FastAPI, config: ApiConfig) -> None:
    """Outermost last: host check, then CORS (only when configured), body limit, headers."""
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "X-Neverblink-Actor"],
        )
    if config.allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))


def _healthz(request: Request) -> Health:
    service: ControlService = request.app.state.service
    config: ApiConfig = request.app.state.api_config
    return Health(
        ok=True,
        bot=service.settings.bot,
        redis=service.client() is not None,
        private_reads=config.private_reads,
    )
