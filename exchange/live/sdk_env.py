"""An SDK `Environment` whose every URL is one the caller names (or a dead loopback port).

polymarket-client's clients take an `Environment`; its production one points at
Polymarket's hosts. For the paper venue (and any explicit live URLs), build one
here: URLs not given go to 127.0.0.1:9 (discard), so a stray call fails locally
instead of reaching a real host. Contract addresses and the chain stay mainnet's.
"""

from __future__ import annotations

from dataclasses import replace

from polymarket._internal.environment import PRODUCTION_CONFIG, create_environment
from polymarket.environments import Environment

UNSET = "http://127.0.0.1:9"
UNSET_WS = "ws://127.0.0.1:9"


def sdk_environment(
    clob_url: str,
    *,
    gamma_url: str = UNSET,
    data_url: str = UNSET,
    market_ws_url: str = UNSET_WS,
    user_ws_url: str = UNSET_WS,
    name: str = "neverblink",
) -> Environment:
    config = replace(
        PRODUCTION_CONFIG,
        clob_url=clob_url,
        clob_market_ws_url=market_ws_url,
        clob_user_ws_url=user_ws_url,
        gamma_url=gamma_url,
        data_url=data_url,
        relayer_url=UNSET,
        rfq_url=UNSET,
        rtds_ws_url=UNSET_WS,
        sports_ws_url=UNSET_WS,
        rpc_url=UNSET,
        rfq_quoter_ws_url=UNSET_WS,
        builder_gateway_url=UNSET,
        collateral_return_url=UNSET,
        perps_url=UNSET,
        perps_ws_url=UNSET_WS,
        realtime_ws_url=UNSET_WS,
    )
    return create_environment(name=name, config=config)
