"""The venue interface the runner talks to (synchronous: the tick loop is)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from exchange.types import (
    Book,
    MarketWindow,
    OrderRequest,
    PlaceResult,
    Resolution,
    VenueFill,
    VenueOrder,
)


@runtime_checkable
class Venue(Protocol):
    """A CLOB venue. Every method may raise `exchange.errors.VenueError` subclasses."""

    def server_time(self) -> float:
        """The venue's clock (unix seconds). Use it, not time.time(), for window timing."""
        ...

    def list_windows(self) -> list[MarketWindow]:
        """Up/Down windows that are live or recently closed."""
        ...

    def books(self, token_ids: Iterable[str]) -> dict[str, Book]:
        """Books of these tokens in one round trip; tokens without a book are left out."""
        ...

    def order_id_for(self, req: OrderRequest) -> str:
        """The venue order id `place(req)` will create, known before posting."""
        ...

    def place(self, req: OrderRequest) -> PlaceResult:
        """Post an order. Idempotent: re-posting the same request never makes a second order.

        Raises `OrderRejected` when the venue refuses it (4xx, e.g. off-tick price,
        a killed FOK). A venue that answers 200 with `success: false` gives a
        `PlaceResult` with `success=False` and the venue's `error`.
        """
        ...

    def cancel(self, order_id: str) -> bool:
        """Cancel one order; False when it was not open (unknown, filled or already canceled)."""
        ...

    def cancel_all(self) -> list[str]:
        """Cancel every open order of ours; returns the canceled ids."""
        ...

    def open_orders(self) -> list[VenueOrder]:
        """Our resting orders."""
        ...

    def get_order(self, order_id: str) -> VenueOrder | None:
        """One order in any state, or None when the venue never accepted it."""
        ...

    def fills_since(self, cursor: str | None) -> tuple[list[VenueFill], str]:
        """Our fills after `cursor` (None: from the beginning) and the cursor to resume from.

        The cursor is opaque; store it and pass it back. A fill is reported once
        per cursor chain; should a cursor be reused, `fill_id` makes recording idempotent.
        """
        ...

    def resolution(self, slug: str, condition_id: str = "") -> Resolution | None:
        """The winner of a window, or None while it is unresolved.

        `condition_id`: the window's, when the caller knows it (a settlement job reads
        it from Redis): one `GET /markets/{condition_id}`, no discovery of the markets.
        """
        ...
