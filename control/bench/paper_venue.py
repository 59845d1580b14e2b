"""A paper venue process with a chosen set of assets, for benchmarks and chaos tests.

`neverblink venue` lists btc and eth (4 live markets); several replicas need
more markets to split, so this serves every asset the paper venue knows
(btc, eth, sol, xrp: 8 live markets with the 5m and 15m series):

    python -m control.bench.paper_venue --redis-url URL --port P [--assets btc,eth,sol,xrp]
        [--window-seconds S] [--speed X] [--seed N] [--latency-ms MS]

`--latency-ms` delays every answer, like a venue across a network (real CLOB
round trips are tens of milliseconds): a runner's tick then spends most of
its time waiting on the venue, between taking its leases and committing.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

import redis
from fastapi import FastAPI, Request, Response

from exchange.paper import PaperConfig, create_app, serve
from exchange.paper.prices import INITIAL_PRICES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m control.bench.paper_venue")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--assets", default=",".join(INITIAL_PRICES))
    parser.add_argument("--window-seconds", type=int, default=None)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--name", default="paper")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    config = PaperConfig(
        redis=redis.Redis.from_url(args.redis_url, decode_responses=True),
        name=args.name,
        seed=args.seed,
        speed=args.speed,
        window_seconds=args.window_seconds,
        assets=tuple(a for a in args.assets.split(",") if a),
    )
    app = create_app(config)
    if args.latency_ms > 0:
        add_latency(app, args.latency_ms / 1000)
    serve(app, port=args.port)


def add_latency(app: FastAPI, seconds: float) -> None:
    async def delay(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        await asyncio.sleep(seconds)
        return await call_next(request)

    app.middleware("http")(delay)


if __name__ == "__main__":
    main()
