"""The paper CLOB venue: Polymarket's REST dialect over synthetic Up/Down markets."""

from exchange.paper.app import create_app
from exchange.paper.clock import ManualClock
from exchange.paper.config import PaperConfig, RateLimit
from exchange.paper.server import BackgroundServer, serve

__all__ = ["BackgroundServer", "ManualClock", "PaperConfig", "RateLimit", "create_app", "serve"]
