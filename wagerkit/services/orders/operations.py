"""Orders: categories, create, read, edit and delete, the client's actions, invalid-contact
reports, reviews and complaints, preferences and the profile (docs/orders.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ...domain.errors import (
    ActiveOrderExists,
    AlreadyExists,
    AlreadyReviewed,
    InvalidInput,
    OrderClosed,
    PermissionDenied,
    ReportNotFound,
    UserNotFound,
)
from ...domain.identity import Actor, User, validate_display_name
from ...domain.ledger import AccountKind
from ...domain.orders import (
    COMPLAINT_REASONS,
    DEFAULT_CATEGORIES,
    Complaint,
    ContactReport,
    NotifyMode,
    Order,
    OrderCategory,
    OrderCreated,
    OrderStatus,
    Preferences,
    ReportStatus,
    Review,
    can_see_contact,
    check_category,
    check_city,
    check_contact,
    check_description,
    check_edit,
    check_report,
    check_review,
    check_stars,
    new_order_id,
)
from ...domain.refs import user_ref
from ...domain.text import clean_reason, clean_text
from ...ports import UnitOfWork
from .common import Closed, OrdersBase, OrderView, close_order, order_ref, refund_takes

__all__ = ["OrderOperations", "Profile"]

_MAX_SUBSCRIPTIONS = 50


@dataclass(frozen=True, slots=True)
class Profile:
    """``GET /users/me``: the user, the orders' wallet balance, stats and rating."""

    user: User
    currency: str
    balance: int
    orders_created: int
    orders_taken: int
    orders_completed: int
    phone: str

    @property
    def rating(self) -> float | None:
        """The mean rating (``rating_sum / rating_count``; ``None`` before any)."""
        u = self.user
        return round(u.rating_sum / u.rating_count, 2) if u.rating_count else None


def _user_id(actor: Actor) -> int:
    if actor.user_id is None:
        raise PermissionDenied("only a user can do this")
    return actor.user_id


class OrderOperations(OrdersBase):
    # -- categories (operators) -------------------------------------------------------------
    async def categories(self) -> list[OrderCategory]:
        """Every category; the seed's seven (``DEFAULT_CATEGORIES``, the fee scaled to the
        currency) until an operator writes one."""
        async with self._d.uow() as uow:
            return await self._categories(uow)

    async def _categories(self, uow: UnitOfWork) -> list[OrderCategory]:
        return await uow.orders.categories() or self._defaults()

    def _defaults(self) -> list[OrderCategory]:
        """The seed's categories, the fee (2) in major units of the orders' currency: 2 COIN,
        or 200 kopecks when the orders' currency is RUB."""
        scale = 10 ** self._d.currencies[self.currency].exponent
        return [dataclasses.replace(c, fee=c.fee * scale) for c in DEFAULT_CATEGORIES]

    async def put_category(self, actor: Actor, category: OrderCategory) -> OrderCategory:
        """Create or change a category (staff, audited); existing orders keep their terms."""
        actor.require_staff()
        category = category.checked()

        async def work(uow: UnitOfWork) -> None:
            if not await uow.orders.categories():  # first write: keep the defaults alongside
                for c in self._defaults():
                    await uow.orders.put_category(c)
            await uow.orders.put_category(category)
            await uow.audit.add(
                self._audit(
                    actor,
                    "order.category",
                    f"category:{category.slug}",
                    "category written",
                    fee=str(category.fee),
                    active=str(category.active),
                )
            )

        await self._d.transaction(work)
        return category

    # -- the client's order ------------------------------------------------------------------
    async def create(
        self, actor: Actor, category: str, city: str, description: str, contact: str
    ) -> OrderView:
        """Post an order (free; rate-limited; one active order per contact)."""
        uid = _user_id(actor)
        description = check_description(description)
        contact = check_contact(contact)
        city = self._canonical_city(check_city(city))
        if self._limit is not None:
            await self._limit(actor, "order")
        oid = new_order_id()

        async def work(uow: UnitOfWork) -> Order:
            cat = check_category(category, await self._categories(uow))
            if await uow.orders.active_for_contact(contact) is not None:
                raise ActiveOrderExists()
            now = self._d.clock.now()
            order = Order(
                oid,
                uid,
                cat.slug,
                description,
                city,
                contact,
                OrderStatus.ACTIVE,
                now,
                now + timedelta(minutes=cat.lifetime_minutes),
                now,
                cat.fee,
                cat.max_executors,
                cat.response_minutes,
                self.currency,
            )
            await uow.orders.add(order)
            return order

        order = await self._d.transaction(work)
        await self._d.publisher.publish(OrderCreated(order.id, order.category, order.city, uid))
        return OrderView.of(order, True)

    async def get(self, actor: Actor | None, order_id: str) -> OrderView:
        """One order; the contact only for its client and the executors who paid."""
        async with self._d.uow() as uow:
            order = await self._get(uow, order_id)
            takes = (await uow.orders.takes_of([order.id])).get(order.id, [])
        uid = actor.user_id if actor is not None else None
        takers = [t.executor_id for t in takes]
        return OrderView.of(order, can_see_contact(order, uid, takers), uid in takers)

    async def list_orders(
        self,
        *,
        category: str | None = None,
        city: str | None = None,
        status: OrderStatus | str | None = OrderStatus.ACTIVE,
        client_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[OrderView]:
        """The public listing (contacts hidden), newest first."""
        if status is not None:
            try:
                status = OrderStatus(status)
            except ValueError:
                raise InvalidInput(f"unknown order status {str(status)[:30]!r}") from None
        if not 1 <= limit <= 200 or offset < 0:
            raise InvalidInput("limit must be 1-200 and offset not negative")
        async with self._d.uow() as uow:
            found = await uow.orders.list_orders(
                category=category,
                city=city,
                status=status,
                client_id=client_id,
                limit=limit,
                offset=offset,
            )
        return [OrderView.of(o, False) for o in found]

    async def edit(
        self,
        actor: Actor,
        order_id: str,
        *,
        description: str | None = None,
        city: str | None = None,
        contact: str | None = None,
    ) -> OrderView:
        """The client changes its order before anyone took it."""
        uid = _user_id(actor)
        desc = check_description(description) if description is not None else None
        new_contact = check_contact(contact) if contact is not None else None
        new_city = self._canonical_city(check_city(city)) if city is not None else None

        async def work(uow: UnitOfWork) -> Order:
            order = await self._get(uow, order_id, lock=True)
            if order.client_id != uid:
                raise PermissionDenied("only the order's client may edit it")
            check_edit(order, city_changes=new_city is not None and new_city != order.city)
            if (
                new_contact is not None
                and new_contact != order.contact
                and await uow.orders.active_for_contact(new_contact) is not None
            ):
                raise ActiveOrderExists()
            new = dataclasses.replace(
                order,
                description=desc if desc is not None else order.description,
                city=new_city if new_city is not None else order.city,
                contact=new_contact if new_contact is not None else order.contact,
                updated_at=self._d.clock.now(),
            )
            await uow.orders.update(new)
            return new

        order = await self._d.transaction(work)
        await self._announce([Closed(order)])
        return OrderView.of(order, True)

    async def delete(self, actor: Actor, order_id: str) -> OrderView:
        """The client deletes its order before anyone took it."""
        return await self._client_close(actor, order_id, OrderStatus.DELETED)

    async def respond(self, actor: Actor, order_id: str) -> OrderView:
        """The client answered its executors: no automatic refund any more."""
        uid = _user_id(actor)

        async def work(uow: UnitOfWork) -> Order:
            order = await self._get(uow, order_id, lock=True)
            self._own_active(order, uid)
            if order.responded:
                return order
            new = dataclasses.replace(order, responded=True, updated_at=self._d.clock.now())
            await uow.orders.update(new)
            return new

        order = await self._d.transaction(work)
        await self._announce([Closed(order)])
        return OrderView.of(order, True)

    async def complete(self, actor: Actor, order_id: str) -> OrderView:
        """The client marks the order done (reviews open)."""
        return await self._client_close(actor, order_id, OrderStatus.COMPLETED)

    async def close(self, actor: Actor, order_id: str) -> OrderView:
        """The client closes the order (no refund: an unanswered take is refunded only by
        the response window)."""
        return await self._client_close(actor, order_id, OrderStatus.CLOSED)

    def _own_active(self, order: Order, uid: int) -> None:
        if order.client_id != uid:
            raise PermissionDenied("only the order's client may do this")
        if order.status is not OrderStatus.ACTIVE:
            raise OrderClosed(f"the order is {order.status.value}")

    async def _client_close(self, actor: Actor, order_id: str, status: OrderStatus) -> OrderView:
        uid = _user_id(actor)

        async def work(uow: UnitOfWork) -> Closed:
            order = await self._get(uow, order_id, lock=True)
            self._own_active(order, uid)
            if status is OrderStatus.DELETED:
                check_edit(order, city_changes=False)
            return await close_order(uow, order, status, self._d.clock.now())

        closed = await self._d.transaction(work)
        await self._announce([closed])
        return OrderView.of(closed.order, True)

    # -- invalid contacts --------------------------------------------------------------------
    async def report_contact(self, actor: Actor, order_id: str, reason: str) -> ContactReport:
        """An executor who paid reports, within 24 h, that the contact does not work."""
        uid = _user_id(actor)
        reason = clean_reason(reason)

        async def work(uow: UnitOfWork) -> ContactReport:
            order = await self._get(uow, order_id)
            takes = (await uow.orders.takes_of([order.id])).get(order.id, [])
            take = next((t for t in takes if t.executor_id == uid), None)
            check_report(take, self._d.clock.now(), await uow.orders.rejected_reports(uid))
            return await uow.orders.add_report(order.id, uid, reason, self._d.clock.now())

        return await self._d.transaction(work)

    async def reports(
        self, actor: Actor, *, status: ReportStatus | str | None = ReportStatus.PENDING
    ) -> list[ContactReport]:
        """Reports for operators (pending ones by default), oldest first."""
        actor.require_staff()
        st = ReportStatus(status) if status is not None else None
        async with self._d.uow() as uow:
            return await uow.orders.list_reports(status=st, limit=200)

    async def decide_report(
        self, actor: Actor, report_id: int, *, accept: bool, reason: str = ""
    ) -> ContactReport:
        """An operator accepts (the executor's fee refunded) or rejects a report; audited."""
        actor.require_staff()
        note = clean_reason(reason or ("accepted" if accept else "rejected"))
        refunded: list[int] = []

        async def work(uow: UnitOfWork) -> ContactReport:
            refunded.clear()
            report = await uow.orders.get_report(report_id, lock=True)
            if report is None:
                raise ReportNotFound(f"no report {report_id}")
            if report.status is not ReportStatus.PENDING:
                raise AlreadyExists(f"the report was {report.status.value} already")
            now = self._d.clock.now()
            order = await self._get(uow, report.order_id, lock=True)
            if accept:
                takes = (await uow.orders.takes_of([order.id])).get(order.id, [])
                mine = [t for t in takes if t.executor_id == report.executor_id]
                if mine and not mine[0].refunded:
                    refunded.append(report.executor_id)
                await refund_takes(uow, order, mine, now)
            decided = dataclasses.replace(
                report,
                status=ReportStatus.ACCEPTED if accept else ReportStatus.REJECTED,
                decided_at=now,
                decided_by=actor.user_id,
            )
            await uow.orders.decide_report(decided)
            await uow.audit.add(
                self._audit(
                    actor,
                    "order.report_accept" if accept else "order.report_reject",
                    order_ref(order.id),
                    note,
                    report=str(report.id),
                    executor=user_ref(report.executor_id),
                )
            )
            return decided

        decided = await self._d.transaction(work)
        if refunded:
            await self._announce(
                [Closed((await self.get(None, decided.order_id)).order, (*refunded,))]
            )
        return decided

    # -- reviews and complaints ----------------------------------------------------------------
    async def review(
        self, actor: Actor, order_id: str, executor_id: int, stars: int, text: str = ""
    ) -> Review:
        """The client rates an executor who took the order, once, after completion or
        expiry; the executor's rating (sum and count) moves in the same transaction."""
        uid = _user_id(actor)
        stars = check_stars(stars)
        text = clean_text(text, "text", max_length=1000, required=False, multiline=True)

        async def work(uow: UnitOfWork) -> Review:
            order = await self._get(uow, order_id)
            takes = (await uow.orders.takes_of([order.id])).get(order.id, [])
            check_review(order, uid, executor_id, [t.executor_id for t in takes])
            try:
                review = await uow.orders.add_review(
                    order.id, uid, executor_id, stars, text, self._d.clock.now()
                )
            except AlreadyExists as exc:
                raise AlreadyReviewed(exc.detail) from None
            user = await uow.users.get(executor_id, for_update=True)
            if user is None:
                raise UserNotFound(f"no user {executor_id}")
            user.rating_sum += stars
            user.rating_count += 1
            await uow.users.update(user)
            return review

        return await self._d.transaction(work)

    async def complain(self, actor: Actor, order_id: str, reason: str, text: str = "") -> Complaint:
        """An executor who took the order complains about its client (once per order);
        ``reason`` is one of ``COMPLAINT_REASONS``."""
        uid = _user_id(actor)
        if reason not in COMPLAINT_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(COMPLAINT_REASONS)}")
        text = clean_text(text, "text", max_length=1000, required=False, multiline=True)

        async def work(uow: UnitOfWork) -> Complaint:
            order = await self._get(uow, order_id)
            takes = (await uow.orders.takes_of([order.id])).get(order.id, [])
            if uid not in {t.executor_id for t in takes}:
                raise PermissionDenied("only an executor who took the order may complain")
            try:
                return await uow.orders.add_complaint(
                    order.id, uid, reason, text, self._d.clock.now()
                )
            except AlreadyExists as exc:
                raise AlreadyReviewed(exc.detail) from None

        return await self._d.transaction(work)

    async def reviews(
        self,
        *,
        executor_id: int | None = None,
        min_stars: int | None = None,
        max_stars: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Review]:
        """The public list of reviews, newest first (no contacts, no Telegram ids)."""
        if not 1 <= limit <= 200 or offset < 0:
            raise InvalidInput("limit must be 1-200 and offset not negative")
        async with self._d.uow() as uow:
            return await uow.orders.list_reviews(
                executor_id=executor_id,
                min_stars=min_stars,
                max_stars=max_stars,
                limit=limit,
                offset=offset,
            )

    # -- preferences and profile --------------------------------------------------------------
    async def preferences(self, actor: Actor) -> Preferences:
        uid = _user_id(actor)
        async with self._d.uow() as uow:
            return await uow.orders.get_preferences(uid) or Preferences(uid)

    async def set_preferences(
        self,
        actor: Actor,
        *,
        categories: Sequence[str] | None = None,
        cities: Sequence[str] | None = None,
        mode: NotifyMode | str | None = None,
        digest_minutes: int | None = None,
        phone: str | None = None,
    ) -> Preferences:
        """Change the subscribed categories and cities, the notification setting (instant,
        a digest every ``digest_minutes`` (5-1440), or off) or the phone; ``None`` keeps."""
        uid = _user_id(actor)
        if mode is not None:
            try:
                mode = NotifyMode(mode)
            except ValueError:
                raise InvalidInput("mode must be instant, digest or off") from None
        if digest_minutes is not None and (
            isinstance(digest_minutes, bool)
            or not isinstance(digest_minutes, int)
            or not 5 <= digest_minutes <= 1440
        ):
            raise InvalidInput("digest_minutes must be an integer from 5 to 1440")
        cities_t = (
            tuple(dict.fromkeys(self._canonical_city(check_city(c)) for c in cities))
            if cities is not None
            else None
        )
        if phone is not None:
            phone = clean_text(phone, "phone", max_length=32, required=False)
        for seq in (categories, cities_t):
            if seq is not None and len(seq) > _MAX_SUBSCRIPTIONS:
                raise InvalidInput(f"at most {_MAX_SUBSCRIPTIONS} subscriptions")

        async def work(uow: UnitOfWork) -> Preferences:
            # locked: a digest runner's lease written between this read and the write below
            # would be put back to the old due time, and the digest sent twice
            old = await uow.orders.get_preferences(uid, lock=True) or Preferences(uid)
            cats = old.categories
            if categories is not None:
                known = await self._categories(uow)
                cats = tuple(dict.fromkeys(check_category(c, known).slug for c in categories))
            now = self._d.clock.now()
            new = dataclasses.replace(
                old,
                categories=cats,
                cities=cities_t if cities_t is not None else old.cities,
                mode=mode if isinstance(mode, NotifyMode) else old.mode,
                digest_minutes=digest_minutes or old.digest_minutes,
                phone=phone if phone is not None else old.phone,
                digest_after=old.digest_after or now,
            )
            if new.mode is NotifyMode.DIGEST and (
                old.mode is not NotifyMode.DIGEST or new.digest_minutes != old.digest_minutes
            ):  # the first digest one period from now, listing orders from now
                new = dataclasses.replace(
                    new, digest_after=now, digest_due=now + timedelta(minutes=new.digest_minutes)
                )
            await uow.orders.put_preferences(new)
            return new

        return await self._d.transaction(work)

    async def profile(self, actor: Actor) -> Profile:
        """The actor's profile: balance in the orders' currency, stats and rating."""
        uid = _user_id(actor)
        async with self._d.uow() as uow:
            user = await uow.users.get(uid)
            if user is None:
                raise UserNotFound(f"no user {uid}")
            acc = await uow.ledger.find_account(AccountKind.USER, user_ref(uid), self.currency)
            stats = await uow.orders.stats(uid)  # counted by the store, not read
            prefs = await uow.orders.get_preferences(uid)
        return Profile(
            user,
            self.currency,
            acc.balance if acc is not None else 0,
            stats.created,
            stats.taken,
            stats.completed,
            prefs.phone if prefs is not None else "",
        )

    async def update_profile(
        self, actor: Actor, *, display_name: str | None = None, phone: str | None = None
    ) -> Profile:
        """``PUT /users/me``: the display name and an optional phone."""
        uid = _user_id(actor)
        if display_name is not None:
            name = validate_display_name(display_name)

            async def work(uow: UnitOfWork) -> None:
                user = await uow.users.get(uid, for_update=True)
                if user is None:
                    raise UserNotFound(f"no user {uid}")
                user.display_name = name
                await uow.users.update(user)

            await self._d.transaction(work)
        if phone is not None:
            await self.set_preferences(actor, phone=phone)
        return await self.profile(actor)
