"""The service-order marketplace (SPEC section 6, docs/orders.md).

Money: an executor's access fee goes wallet → house (``orders:fee:<order>:<executor>``), a
refund house → wallet (``orders:refund:<order>:<executor>``), in the area's configured
currency (``currency``; the project's default ``COIN`` unless configured). The service is one
class in three parts: ``operations`` (categories, the client's order, reports, reviews,
preferences), ``taking`` (the take path on the shared group commit) and ``due`` (the job
runner's source); ``live`` registers what the area pushes to Socket.IO rooms and sends new
orders through the ``Notifier``; ``digests`` is the job runner's digest source.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ...domain.identity import Actor, User
from ..base import Deps
from ..groupcommit import GroupCommit
from .common import OrderView
from .digests import DigestsDue, OrderDigests
from .due import OrdersDue, OrdersDueWork
from .live import OrderNotifications, register_order_updates
from .operations import OrderOperations, Profile
from .taking import OrderTaking, TakeReceipt

__all__ = [
    "DigestsDue",
    "OrderDigests",
    "OrderNotifications",
    "OrderService",
    "OrderView",
    "OrdersDue",
    "OrdersDueWork",
    "Profile",
    "TakeReceipt",
    "register_order_updates",
]


class OrderService(OrderOperations, OrderTaking):
    """The orders area's use cases (see the package docstring and docs/orders.md).

    ``city``: a canonicaliser (``CityDirectory.canonical``): the stored spelling of a city,
    or ``None`` for an unknown one (refused); without it any clean city name is accepted.
    ``claims`` and ``admit`` (the identity service's) let ``take_with_token`` authenticate
    an access token's user in the take batch itself."""

    def __init__(
        self,
        deps: Deps,
        *,
        limit: Callable[[Actor, str], Awaitable[None]] | None = None,
        city: Callable[[str], str | None] | None = None,
        currency: str | None = None,
        claims: Callable[[str], tuple[int, str]] | None = None,
        admit: Callable[[User | None, str], Actor] | None = None,
    ) -> None:
        self._d = deps
        self._limit = limit
        self._claims = claims
        self._admit = admit
        self._city = city
        # the orders' currency: the configured one, else the first (default) currency
        self.currency = deps.currencies[currency or next(iter(deps.currencies))].code
        self._closed_in_batch = []
        self._feed_batch, self._feed_reads = frozenset(), {}
        self._takes = GroupCommit(
            self._run_takes,
            max_batch=256,
            conflict_key=lambda c: (c.order_id, c.executor_id),  # one per pair and batch
            after=self._after_takes,
        )
