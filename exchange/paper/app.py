"""`create_app(config)`: the paper CLOB venue as a FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from exchange.paper.config import PaperConfig
from exchange.paper.engine import PaperEngine
from exchange.paper.errors import install_handlers
from exchange.paper.marketdata import MarketData
from exchange.paper.queries import OwnerQueries
from exchange.paper.ratelimit import RateLimiter
from exchange.paper.routes import router
from exchange.paper.routes_trading import router as trading_router
from exchange.paper.stats import install_stats
from exchange.paper.streams import install_streams


def create_app(config: PaperConfig) -> FastAPI:
    """Build the venue. State is in `config.redis`; two apps on the same name share it."""
    app = FastAPI(
        title="neverblink paper CLOB",
        description="A paper venue speaking the Polymarket CLOB REST dialect.",
        version="2",
    )
    engine = PaperEngine(config)
    app.state.engine = engine
    app.state.queries = OwnerQueries(engine)
    app.state.market_data = MarketData(engine)
    app.state.limiter = RateLimiter(config.rate_limits, config.real_time)
    app.state.credentials = {c.api_key: c for c in config.credentials}
    install_handlers(app)
    app.include_router(router)
    install_streams(app, engine)
    install_stats(app)
    app.include_router(trading_router)
    return app
