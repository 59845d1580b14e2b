"""Every Redis key of neverblink, built in this one module.

All keys of bot B start with `nb:{B}:`; the braces are a Redis Cluster hash
tag, so every key of one bot lives in one slot and a Lua script may touch any
of them. Nothing outside this module formats a key string.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Key builder for one bot."""

    bot: str

    @property
    def prefix(self) -> str:
        return f"nb:{{{self.bot}}}:"

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # -- trading state (hashes with flat, readable fields) -------------------
    def position(self, market: str) -> str:
        return self._k("pos", market)

    def window(self, market: str) -> str:
        return self._k("win", market)

    def order(self, client_order_id: str) -> str:
        return self._k("order", client_order_id)

    @property
    def order_prefix(self) -> str:
        """What `order()` puts before a client order id (for the snapshot script)."""
        return self._k("order", "")

    def fill(self, fill_id: str) -> str:
        return self._k("fill", fill_id)

    # -- indexes (sets) ------------------------------------------------------
    @property
    def markets(self) -> str:
        """Set of every market that has a window record."""
        return self._k("markets")

    @property
    def pending(self) -> str:
        """Set of client order ids not yet in a terminal state."""
        return self._k("pending")

    def pending_market(self, market: str) -> str:
        """Set of one market's client order ids not yet in a terminal state."""
        return self._k("pending", market)

    def market_orders(self, market: str) -> str:
        """Set of every client order id ever created for a market."""
        return self._k("orders", market)

    @property
    def venue_orders(self) -> str:
        """Hash: venue order id -> client order id (to map venue fills to our orders)."""
        return self._k("venue_orders")

    # -- leases --------------------------------------------------------------
    def lease(self, market: str) -> str:
        """String `<replica>|<fence token>` with a PX expiry."""
        return self._k("lease", market)

    @property
    def fence(self) -> str:
        """Counter handing out fencing tokens for every lease grant."""
        return self._k("fence")

    # -- strategies, control, code, runners ---------------------------------
    def memory(self, strategy: str) -> str:
        return self._k("mem", strategy)

    @property
    def control(self) -> str:
        return self._k("control")

    @property
    def audit(self) -> str:
        return self._k("audit")

    @property
    def reloads(self) -> str:
        """Stream: the reload manifest, one entry per attempt or confirmation."""
        return self._k("reloads")

    @property
    def code(self) -> str:
        """Hash: the published code generation."""
        return self._k("code")

    def runner(self, replica: str) -> str:
        """Hash: a runner's heartbeat and status."""
        return self._k("runner", replica)

    @property
    def runners(self) -> str:
        """Set of replica ids that have ever reported."""
        return self._k("runners")

    @property
    def events(self) -> str:
        """Stream: orders, fills and other events for live views."""
        return self._k("events")
