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

    def strategy_positions(self, market: str) -> str:
        """Hash: `<strategy>|Up`, `<strategy>|Down` (shares), `<strategy>|buy_notional`, in
        micro-units, from the fills of each strategy's orders (for its risk limits)."""
        return self._k("spos", market)

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
    def unconfirmed_fills(self) -> str:
        """Set of fill ids whose venue trade is not CONFIRMED yet (MATCHED, MINED, RETRYING)."""
        return self._k("fills", "unconfirmed")

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

    @property
    def open_markets(self) -> str:
        """Set of markets whose window is open (not yet closed or settled)."""
        return self._k("open")

    @property
    def unsettled(self) -> str:
        """Set of markets whose window closed and is not settled yet."""
        return self._k("unsettled")

    @property
    def flattened(self) -> str:
        """Hash: market -> the last flatten request (flatten_seq) carried out for it."""
        return self._k("flattened")

    @property
    def fill_cursor(self) -> str:
        """String: the venue's trades cursor up to which fills were applied."""
        return self._k("cursor", "fills")

    # -- risk limits (state_store.risk, runner.risk) ----------------------------
    @property
    def risk_windows(self) -> str:
        """Sorted set: market -> its window's end (s), for the daily loss; trimmed to two days."""
        return self._k("risk", "windows")

    def risk_paused(self, day: str) -> str:
        """Hash: scope -> when its loss limit paused entries on UTC day `day` (once a day)."""
        return self._k("risk", "paused", day)

    # -- window discovery (runner.discovery) ---------------------------------
    @property
    def unlisted_windows(self) -> str:
        """Hash: slug -> `<retry at, wall s>|<reason>` of a window Gamma did not list."""
        return self._k("discovery", "unlisted")

    def discovery_claim(self, slug: str) -> str:
        """String `<replica>` with a PX expiry: this replica is asking Gamma for the slug."""
        return self._k("discovery", "claim", slug)

    # -- reference prices ----------------------------------------------------
    def prices(self, asset: str) -> str:
        """Stream: the reference price of an asset, one entry per price (id = its timestamp in
        ms, field `p`), capped; written by every runner with a price stream, read for strikes."""
        return self._k("prices", asset)

    # -- leases --------------------------------------------------------------
    def lease(self, market: str) -> str:
        """String `<replica>|<fence token>` with a PX expiry."""
        return self._k("lease", market)

    @property
    def venue_heartbeat(self) -> str:
        """Hash `id owner beat_at`: the venue heartbeat chain (its last id), shared by replicas."""
        return self._k("venue_heartbeat")

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
    def quarantine(self) -> str:
        """Hash: code generation -> why it was rolled back (never loaded again)."""
        return self._k("quarantine")

    @property
    def watcher(self) -> str:
        """String `<host>:<pid>:<nonce>` with a PX expiry: the lease of the one active
        reload watcher. While it exists, runners only adopt the generation in `code`."""
        return self._k("watcher")

    # -- multi-replica work: lease history, reconciliation, repairs -----------
    @property
    def lease_log(self) -> str:
        """Stream: every fresh lease grant (`market replica token ts`, server time), capped."""
        return self._k("leaselog")

    @property
    def reconcile_cursor(self) -> str:
        """String: JSON pair of the reconciliation job's last two venue trades cursors."""
        return self._k("cursor", "reconcile")

    # -- data-loss guard: epoch, per-replica sequence, repair in progress ----
    @property
    def epoch(self) -> str:
        """Hash: `epoch` (random id written once into an empty Redis) and `created_at`."""
        return self._k("epoch")

    @property
    def seq(self) -> str:
        """Hash: replica -> sequence it bumped after its last tick's writes (never goes back)."""
        return self._k("seq")

    @property
    def repairing(self) -> str:
        """String `<replica>|<reason>` with a PX expiry: a rebuild from the venue is running;
        while it exists no runner places new orders."""
        return self._k("repairing")

    def audit_once(self, change_id: str) -> str:
        """String with an expiry: this audit entry id was already added to the stream."""
        return self._k("audit_once", change_id)


@dataclass(frozen=True)
class VenueKeys:
    """Key builder for one paper venue: every key starts with `pv:{<venue>}:`.

    The paper venue's own state (its windows, orders, trades, accounts), apart
    from any bot's keys; one hash tag per venue so a MULTI may touch any of them.
    """

    venue: str

    @property
    def prefix(self) -> str:
        return f"pv:{{{self.venue}}}:"

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @property
    def meta(self) -> str:
        """Hash: clock anchor and price origin, written at the first start."""
        return self._k("meta")

    @property
    def seq(self) -> str:
        """Counter: order and trade sequence numbers."""
        return self._k("seq")

    # -- markets -------------------------------------------------------------
    def window(self, slug: str) -> str:
        """Hash: one market window (tokens, start/end prices, winner)."""
        return self._k("win", slug)

    @property
    def conditions(self) -> str:
        """Hash: condition id -> slug."""
        return self._k("conditions")

    @property
    def tokens(self) -> str:
        """Hash: token id -> `<slug>|<outcome>`."""
        return self._k("tokens")

    @property
    def unresolved(self) -> str:
        """Set of slugs not yet resolved."""
        return self._k("unresolved")

    def depth_used(self, condition_id: str, step: int) -> str:
        """Hash: synthetic depth taken in one venue second, `<side>:<price>` -> shares."""
        return self._k("depth", condition_id, str(step))

    # -- orders and trades ---------------------------------------------------
    def order(self, order_id: str) -> str:
        """Hash: one order."""
        return self._k("order", order_id)

    @property
    def open_orders(self) -> str:
        """Sorted set: ids of resting orders, by sequence."""
        return self._k("open")

    def owner_orders(self, owner: str) -> str:
        """Sorted set: every order id of an owner, by sequence."""
        return self._k("orders", owner)

    @property
    def trades(self) -> str:
        """Hash: trade id -> trade JSON (the /data/trades shape)."""
        return self._k("trades")

    def owner_trades(self, owner: str) -> str:
        """Sorted set: trade ids of an owner, by match time."""
        return self._k("trades", owner)

    # -- accounts ------------------------------------------------------------
    @property
    def owners(self) -> str:
        """Set of every owner that ever traded."""
        return self._k("owners")

    @property
    def api_keys(self) -> str:
        """Hash: issued API key -> JSON {secret, passphrase, address}."""
        return self._k("apikeys")

    @property
    def api_key_owners(self) -> str:
        """Set of `<address>:<nonce>` that were issued a key."""
        return self._k("apikey_owners")

    @property
    def heartbeats(self) -> str:
        """Hash: owner -> JSON {id, deadline}: order heartbeats that cancel on silence."""
        return self._k("heartbeats")

    @property
    def faults(self) -> str:
        """Hash: simulated venue faults (restart/post-only deadlines, cancel-only, balance)."""
        return self._k("faults")

    def account(self, owner: str) -> str:
        """Hash: `cash`, `fees` and `redeemed` of an owner."""
        return self._k("acct", owner)

    def positions(self, owner: str) -> str:
        """Hash: token id -> shares held."""
        return self._k("pos", owner)
