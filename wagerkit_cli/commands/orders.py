"""``wagerkit orders`` and ``wagerkit reviews``: the service-order marketplace (docs/orders.md).

Client and executor commands take ``--as USER`` (the CLI otherwise acts as the operator
console); every command prints a table or, with ``--json``, one JSON document. Contacts are
shown only to whom the service shows them (the client, executors who paid; the console sees
them as staff only through the order's client or takers, never in listings).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..runtime import AsOpt, CliState, state
from ..terminal import Column
from . import JsonOpt, KeyOpt

if TYPE_CHECKING:
    from wagerkit import (
        ContactReport,
        OrderCategory,
        OrderView,
        Review,
        TakeReceipt,
        User,
        WagerKit,
    )

__all__ = ["app", "reviews_app", "seed_orders_demo"]

app = typer.Typer(
    help="Service orders: create, list, take, respond, complete, close; reports; categories.",
    no_args_is_help=True,
)
report_app = typer.Typer(help="Decide invalid-contact reports (operators).", no_args_is_help=True)
categories_app = typer.Typer(help="The order categories (operators).", no_args_is_help=True)
reviews_app = typer.Typer(help="Executors' reviews (public).", no_args_is_help=True)
app.add_typer(report_app, name="report")
app.add_typer(categories_app, name="categories")

OrderId = Annotated[str, typer.Argument(help="Order id (12 characters).", show_default=False)]
ORDER_COLUMNS = [
    Column("ID", no_wrap=True),
    Column("Category", no_wrap=True),
    Column("City"),
    Column("Status", no_wrap=True),
    Column("Takers", "right", no_wrap=True),
    Column("Fee", "right", no_wrap=True),
    Column("Expires (UTC)", no_wrap=True),
    Column("Description"),
]


def _utc(dt: Any) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt is not None else ""


def order_json(st: CliState, v: OrderView) -> dict[str, Any]:
    """An order as the API shows it (``contact`` only when the reader may see it)."""
    o = v.order
    cur = st.display_currency(o.currency)
    return {
        "id": o.id,
        "client_id": o.client_id,
        "category": o.category,
        "description": o.description,
        "city": o.city,
        "contact": v.contact,
        "status": o.status.value,
        "created_at": o.created_at.isoformat(),
        "expires_at": o.expires_at.isoformat(),
        "takers": o.takers,
        "free_slots": o.free_slots,
        "max_executors": o.max_executors,
        "fee": o.fee,
        "fee_formatted": cur.format(o.fee),
        "currency": o.currency,
        "responded": o.responded,
        "respond_by": o.respond_by.isoformat() if o.respond_by else None,
        "city_locked": o.city_locked,
        "taken_by_me": v.taken_by_me,
    }


def _row(st: CliState, v: OrderView) -> list[object]:
    o = v.order
    cur = st.display_currency(o.currency)
    return [
        o.id,
        o.category,
        o.city,
        o.status.value,
        f"{o.takers}/{o.max_executors}",
        f"{cur.format(o.fee)} {o.currency}",
        _utc(o.expires_at),
        o.description[:60],
    ]


def _show(st: CliState, v: OrderView, as_json: bool, what: str = "") -> None:
    if as_json:
        st.terminal.json(order_json(st, v))
        return
    st.terminal.table(ORDER_COLUMNS, [_row(st, v)], title=what or f"Order {v.order.id}")
    if v.contact is not None:
        st.terminal.line(f"contact: {v.contact}")


@app.command()
def create(
    ctx: typer.Context,
    category: Annotated[str, typer.Argument(help="Category slug.", show_default=False)],
    city: Annotated[str, typer.Argument(help="City.", show_default=False)],
    description: Annotated[str, typer.Argument(help="What is needed.", show_default=False)],
    contact: Annotated[str, typer.Option(help="How executors reach you (protected).")],
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Post an order (free; one active order per contact)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> OrderView:
        return await kit.orders.create(st.actor, category, city, description, contact)

    _show(st, st.run(work), as_json, "Order created")


@app.command("list")
def list_(
    ctx: typer.Context,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    city: Annotated[str | None, typer.Option(help="Only this city.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status (default active).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The public listing, newest first (contacts hidden)."""
    st = state(ctx)

    async def work(kit: WagerKit) -> list[OrderView]:
        return await kit.orders.list_orders(
            category=category, city=city, status=status or "active", limit=limit
        )

    found = st.run(work)
    if as_json:
        st.terminal.json({"orders": [order_json(st, v) for v in found]})
        return
    st.terminal.table(ORDER_COLUMNS, [_row(st, v) for v in found], caption=f"{len(found)} order(s)")


@app.command()
def show(
    ctx: typer.Context, order_id: OrderId, as_json: JsonOpt = False, as_user: AsOpt = None
) -> None:
    """One order (the contact for its client and executors who paid)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> OrderView:
        return await kit.orders.get(st.actor if as_user is not None else None, order_id)

    _show(st, st.run(work), as_json)


@app.command()
def take(
    ctx: typer.Context,
    order_id: OrderId,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Pay the order's fee and get its contact (again: the contact, no second charge)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> TakeReceipt:
        return await kit.orders.take(st.actor, order_id, idempotency_key=key)

    r = st.run(work)
    cur = st.display_currency(r.currency)
    if as_json:
        st.terminal.json(
            {
                "order_id": r.order.id,
                "contact": r.contact,
                "fee": r.fee,
                "fee_formatted": cur.format(r.fee),
                "currency": r.currency,
                "replayed": r.replayed,
                "takers": r.order.takers,
                "free_slots": r.order.free_slots,
            }
        )
        return
    paid = "already paid" if r.replayed else f"paid {cur.format(r.fee)} {r.currency}"
    st.terminal.line(f"order {r.order.id}: contact {r.contact} ({paid})")


def _client_action(name: str, doc: str) -> None:
    def command(
        ctx: typer.Context, order_id: OrderId, as_json: JsonOpt = False, as_user: AsOpt = None
    ) -> None:
        st = state(ctx)
        st.act_as(as_user)

        async def work(kit: WagerKit) -> OrderView:
            method = getattr(kit.orders, name)
            view: OrderView = await method(st.actor, order_id)
            return view

        v = st.run(work)
        if as_json:
            st.terminal.json(order_json(st, v))
        else:
            st.terminal.line(f"order {v.order.id}: {v.order.status.value}")

    command.__doc__ = doc
    app.command(name)(command)


_client_action("respond", "Mark the order responded (no automatic refund any more).")
_client_action("complete", "Mark the order completed (reviews open).")
_client_action("close", "Close the order (no refund).")
_client_action("delete", "Delete the order (only before anyone took it).")


def report_json(r: ContactReport) -> dict[str, Any]:
    return {
        "id": r.id,
        "order_id": r.order_id,
        "executor_id": r.executor_id,
        "reason": r.reason,
        "status": r.status.value,
        "created_at": r.created_at.isoformat(),
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "decided_by": r.decided_by,
    }


@app.command()
def reports(
    ctx: typer.Context,
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or all.")] = "pending",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Invalid-contact reports (operators), oldest first."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> list[ContactReport]:
        return await kit.orders.reports(st.actor, status=None if status == "all" else status)

    found = st.run(work)
    if as_json:
        st.terminal.json({"reports": [report_json(r) for r in found]})
        return
    cols = [Column("ID", "right"), Column("Order"), Column("Executor", "right")]
    cols += [Column("Status"), Column("Reported (UTC)"), Column("Reason")]
    rows = [
        [r.id, r.order_id, r.executor_id, r.status.value, _utc(r.created_at), r.reason]
        for r in found
    ]
    st.terminal.table(cols, rows, caption=f"{len(rows)} report(s)")


def _decide(accept: bool) -> Any:
    def command(
        ctx: typer.Context,
        report_id: Annotated[int, typer.Argument(help="Report id.", show_default=False)],
        reason: Annotated[str, typer.Option(help="Why (audited).")] = "",
        as_json: JsonOpt = False,
        as_user: AsOpt = None,
    ) -> None:
        st = state(ctx)
        st.act_as(as_user)

        async def work(kit: WagerKit) -> ContactReport:
            return await kit.orders.decide_report(st.actor, report_id, accept=accept, reason=reason)

        r = st.run(work)
        if as_json:
            st.terminal.json(report_json(r))
        else:
            refund = " (fee refunded)" if accept else ""
            st.terminal.line(f"report {r.id}: {r.status.value}{refund}")

    command.__doc__ = (
        "Accept the report: the executor's fee is refunded; audited."
        if accept
        else "Reject the report; audited (too many rejections end the right to report)."
    )
    return command


report_app.command("accept")(_decide(True))
report_app.command("reject")(_decide(False))


def category_json(st: CliState, c: OrderCategory, currency: str) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "name": c.name,
        "fee": c.fee,
        "fee_formatted": st.display_currency(currency).format(c.fee),
        "currency": currency,
        "max_executors": c.max_executors,
        "lifetime_minutes": c.lifetime_minutes,
        "response_minutes": c.response_minutes,
        "active": c.active,
    }


@categories_app.command("list")
def categories_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every category with its terms."""
    st = state(ctx)

    async def work(kit: WagerKit) -> tuple[list[OrderCategory], str]:
        return await kit.orders.categories(), kit.orders.currency

    cats, currency = st.run(work)
    if as_json:
        st.terminal.json({"categories": [category_json(st, c, currency) for c in cats]})
        return
    cols = [Column("Slug"), Column("Name"), Column("Fee", "right"), Column("Max", "right")]
    cols += [Column("Lifetime", "right"), Column("Window", "right"), Column("Active")]
    cur = st.display_currency(currency)
    rows = [
        [
            c.slug,
            c.name,
            f"{cur.format(c.fee)} {currency}",
            c.max_executors,
            f"{c.lifetime_minutes} min",
            f"{c.response_minutes} min",
            "yes" if c.active else "no",
        ]
        for c in cats
    ]
    st.terminal.table(cols, rows)


@categories_app.command("set")
def categories_set(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Category slug (a-z 0-9 _).", show_default=False)],
    name: Annotated[str, typer.Argument(help="Display name.", show_default=False)],
    fee: Annotated[str, typer.Option(help="Access fee in the orders' currency, e.g. 2.00.")] = "2",
    max_executors: Annotated[int, typer.Option(min=1, max=20)] = 3,
    lifetime: Annotated[int, typer.Option(min=1, help="Lifetime in minutes.")] = 60,
    response: Annotated[int, typer.Option(min=1, help="Response window in minutes.")] = 15,
    inactive: Annotated[bool, typer.Option("--inactive", help="Hide it from new orders.")] = False,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Create or change a category (operators; audited). Existing orders keep their terms."""
    from wagerkit import OrderCategory

    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> tuple[OrderCategory, str]:
        units = st.currency(kit.orders.currency).parse(fee)
        cat = OrderCategory(slug, name, units, max_executors, lifetime, response, not inactive)
        return await kit.orders.put_category(st.actor, cat), kit.orders.currency

    cat, currency = st.run(work)
    if as_json:
        st.terminal.json(category_json(st, cat, currency))
    else:
        st.terminal.line(f"category {cat.slug} saved")


def review_json(r: Review) -> dict[str, Any]:
    """A public review: no contact, no Telegram id."""
    return {
        "id": r.id,
        "order_id": r.order_id,
        "executor_id": r.executor_id,
        "stars": r.stars,
        "text": r.text,
        "category": r.category,
        "city": r.city,
        "created_at": r.created_at.isoformat(),
    }


@reviews_app.command("list")
def reviews_list(
    ctx: typer.Context,
    executor: Annotated[int | None, typer.Option(help="Only this executor's.")] = None,
    min_stars: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    max_stars: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Reviews, newest first."""
    st = state(ctx)

    async def work(kit: WagerKit) -> list[Review]:
        return await kit.orders.reviews(
            executor_id=executor, min_stars=min_stars, max_stars=max_stars, limit=limit
        )

    found = st.run(work)
    if as_json:
        st.terminal.json({"reviews": [review_json(r) for r in found]})
        return
    cols = [Column("ID", "right"), Column("Order"), Column("Executor", "right")]
    cols += [Column("Stars"), Column("Category"), Column("City"), Column("Text")]
    rows = [
        [r.id, r.order_id, r.executor_id, "*" * r.stars, r.category, r.city, r.text[:60]]
        for r in found
    ]
    st.terminal.table(cols, rows, caption=f"{len(rows)} review(s)")


# -- wagerkit demo ---------------------------------------------------------------------------
DEMO_ORDERS = [
    # (client, category, city, description, contact, takers, finish with a review); Alice
    # never pays a fee, so her demo balance stays what README.md's tour shows
    ("demo-alice", "plumbing", "Москва", "Demo: leaking tap, today", "demo-contact-1", (), False),
    (
        "demo-bob",
        "locksmith",
        "Казань",
        "Demo: locked out",
        "demo-contact-2",
        ("demo-carol",),
        False,
    ),
    (
        "demo-alice",
        "cleaning",
        "Москва",
        "Demo: after-party cleaning",
        "demo-contact-3",
        ("demo-bob", "demo-carol"),
        True,
    ),
]


async def seed_orders_demo(kit: WagerKit, users: dict[str, User]) -> None:
    """The demo's orders (``wagerkit demo``): active orders with takers and a completed one
    with a review. Again: orders are found by description, takes never charge twice and the
    review is written once."""
    from wagerkit import Actor, AlreadyReviewed

    for client, cat, city, text, contact, takers, review in DEMO_ORDERS:
        me = Actor.of(users[client])
        mine = await kit.orders.list_orders(client_id=users[client].id, status=None, limit=200)
        found = next((v.order for v in mine if v.order.description == text), None)
        if found is None:
            found = (await kit.orders.create(me, cat, city, text, contact)).order
        for t in takers:
            if found.status.value == "active":
                await kit.orders.take(Actor.of(users[t]), found.id)
        if review and found.status.value == "active":
            await kit.orders.respond(me, found.id)
            await kit.orders.complete(me, found.id)
        if review:
            with contextlib.suppress(AlreadyReviewed):
                await kit.orders.review(me, found.id, users[takers[0]].id, 5, "Quick and tidy")
