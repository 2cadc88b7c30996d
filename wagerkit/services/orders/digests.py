"""Digest notifications: a ``DueWork`` source of the job runner (docs/orders.md, "Digests").

An executor whose setting is a digest every N minutes gets one message listing up to 20
matching orders created since its last digest. The preference row carries the schedule:
``digest_after`` (orders newer than this go in the next digest) and ``digest_due``.

Delivery is **at least once**, in three steps, and no transaction is open while sending:

1. *Claim* (one transaction): the due rows are locked ``FOR UPDATE SKIP LOCKED``, each one's
   digest is computed, and the row is leased: ``digest_due`` moves ``LEASE`` ahead (so no
   other runner claims it meanwhile) and ``digest_after`` is pinned to the window's start. A
   row with nothing to send (no matching order, no Telegram id) is moved to its next period
   at once.
2. *Send* through the ``Notifier``, after the commit (an exception counts as a failure).
3. *Settle* (one transaction per message), only if the row still holds this lease
   (``move_digest``'s compare-and-set on ``digest_due``: a runner whose lease ran out, or a
   user who changed the setting meanwhile, writes nothing): delivered → ``digest_after`` is
   the claim's time and the next digest due a period later; failed → due again in ``RETRY``
   with the same window, so the retry lists the same orders (and any newer ones). A digest
   still undelivered ``GIVE_UP`` after its window opened is dropped, with a warning.

A runner that stops between sending and settling, or whose send outlives the lease, leaves
the row to be claimed again when the lease ends: that digest is sent twice. That is the only
duplicate; two runners never send the same digest at the same time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...domain.notifications import OutboundMessage
from ...domain.orders import Order
from ...ports import Notifier, UnitOfWork

if TYPE_CHECKING:
    from . import OrderService

__all__ = ["GIVE_UP", "LEASE", "RETRY", "DigestsDue", "OrderDigests"]

log = logging.getLogger("wagerkit.orders")

LEASE = timedelta(minutes=5)  # a claimed digest is not claimed again before this passed
RETRY = timedelta(minutes=1)  # a failed delivery is due again after this
GIVE_UP = timedelta(days=1)  # a digest undelivered this long after its window opened is dropped
_DIGEST_MAX = 20  # orders listed in one digest message
_SCAN = 200  # newest orders of the window read to find the matching ones


@dataclass(slots=True)
class DigestsDue:
    sent: list[int] = field(default_factory=list)  # users who got a digest
    failed: list[int] = field(default_factory=list)  # users whose digest will be retried
    dropped: list[int] = field(default_factory=list)  # users whose digest was given up

    @property
    def idle(self) -> bool:
        return not (self.sent or self.failed or self.dropped)


@dataclass(frozen=True, slots=True)
class _Digest:
    """A claimed digest: what to send and the lease that lets this runner settle it."""

    user_id: int
    chat_id: int
    orders: list[Order]
    since: datetime  # the window's start (pinned on the row)
    lease: datetime  # the row's digest_due while this runner holds it
    minutes: int

    def message(self) -> OutboundMessage:
        lines = [f"{o.category}, {o.city}: {o.description[:80]}" for o in self.orders]
        return OutboundMessage(
            self.chat_id, f"{len(self.orders)} new order(s)\n" + "\n".join(lines)
        )


class OrderDigests:
    """Digest notifications as a job-runner source (module docstring)."""

    name = "order_digests"

    def __init__(self, orders: OrderService, notifier: Notifier) -> None:
        self._orders = orders
        self._notifier = notifier

    async def run_due(self, now: datetime, limit: int) -> DigestsDue:
        part = DigestsDue()
        while True:
            claimed, digests = await self._orders._d.transaction(
                lambda uow: self._claim(uow, now, limit)
            )
            for d in digests:  # after the claim's commit: no transaction held open
                outcome = await self._settle(d, await self._send(d), now)
                getattr(part, outcome).append(d.user_id)
            if not claimed:
                return part

    async def _claim(self, uow: UnitOfWork, now: datetime, limit: int) -> tuple[int, list[_Digest]]:
        due = await uow.orders.claim_digests(now, limit)
        if not due:
            return 0, []
        users = await uow.users.get_many([p.user_id for p in due])
        out: list[_Digest] = []
        for p in due:
            since = p.digest_after or now - timedelta(minutes=p.digest_minutes)
            recent = await uow.orders.list_orders(status=None, limit=_SCAN, created_after=since)
            found = [o for o in recent if p.matches(o)][:_DIGEST_MAX]
            tid = users[p.user_id].telegram_id if p.user_id in users else None
            if found and tid is not None:  # leased until settled (or the lease ends)
                d = _Digest(p.user_id, tid, found, since, now + LEASE, p.digest_minutes)
                await uow.orders.move_digest(p.user_id, p.digest_due, since, d.lease)
                out.append(d)
            else:  # nothing to send: the next period
                nxt = now + timedelta(minutes=p.digest_minutes)
                await uow.orders.move_digest(p.user_id, p.digest_due, now, nxt)
        return len(due), out

    async def _send(self, d: _Digest) -> bool:
        try:
            return await self._notifier.send(d.message())
        except Exception:
            log.warning("order digest to user %s: the notifier failed", d.user_id, exc_info=True)
            return False

    async def _settle(self, d: _Digest, delivered: bool, now: datetime) -> str:
        """Write the outcome if this runner still holds the lease (module docstring, step
        3); the ``DigestsDue`` list it goes in."""
        if delivered:
            outcome, after, due = "sent", now, now + timedelta(minutes=d.minutes)
        elif now - d.since >= GIVE_UP:
            log.warning("order digest to user %s undelivered since %s: dropped", d.user_id, d.since)
            outcome, after, due = "dropped", now, now + timedelta(minutes=d.minutes)
        else:
            log.info("order digest to user %s not delivered: retried in %s", d.user_id, RETRY)
            outcome, after, due = "failed", d.since, now + RETRY

        async def settle(uow: UnitOfWork) -> bool:
            return await uow.orders.move_digest(d.user_id, d.lease, after, due)

        if not await self._orders._d.transaction(settle):
            log.info("order digest to user %s: lease lost, left to its holder", d.user_id)
        return outcome
