"""The orders area's pure rules (wagerkit/domain/orders.py) against their statement in SPEC
section 6: ids, the take rule, the auto-close decision, contact visibility and reports."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagerkit.domain.errors import (
    OrderClosed,
    OrderExpired,
    OrderFull,
    OwnOrder,
    PermissionDenied,
    ReportNotAllowed,
)
from wagerkit.domain.orders import (
    ID_ALPHABET,
    REPORT_REJECTION_LIMIT,
    REPORT_WINDOW,
    Order,
    OrderStatus,
    Take,
    auto_close,
    can_see_contact,
    check_report,
    check_take,
    is_order_id,
    new_order_id,
    refund_due,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)

statuses = st.sampled_from(list(OrderStatus))
minutes = st.integers(0, 200)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    lifetime = draw(st.integers(1, 120))
    max_ex = draw(st.integers(1, 5))
    takers = draw(st.integers(0, max_ex))
    first = draw(st.integers(0, lifetime)) if takers else None
    window = draw(st.integers(1, 30))
    return Order(
        "A" * 12,
        1,
        "plumbing",
        "d",
        "Moscow",
        "c",
        draw(statuses),
        T0,
        T0 + timedelta(minutes=lifetime),
        T0,
        2,
        max_ex,
        window,
        "COIN",
        takers,
        draw(st.booleans()),
        T0 + timedelta(minutes=first + window) if first is not None else None,
    )


def test_ids_are_12_url_safe_characters() -> None:
    ids = {new_order_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 12 and set(i) <= set(ID_ALPHABET) and is_order_id(i) for i in ids)
    assert not is_order_id("short")
    assert not is_order_id("A" * 11 + "/")


@given(orders(), minutes)
def test_auto_close_decision(order: Order, at: int) -> None:
    now = T0 + timedelta(minutes=at)
    got = auto_close(order, now)
    window = order.respond_by is not None and not order.responded and now >= order.respond_by
    if order.status is not OrderStatus.ACTIVE:
        assert got is None
    elif window:
        assert got is OrderStatus.CLOSED_NO_RESPONSE
        assert refund_due(got)
    elif now >= order.expires_at:
        assert got is OrderStatus.EXPIRED
        assert not refund_due(got)
    else:
        assert got is None
    if got is not None:  # closing is final: the closed order has nothing left to decide
        assert auto_close(order.with_status(got, now), now + timedelta(days=1)) is None


@given(orders(), minutes, st.integers(1, 3))
def test_take_rule(order: Order, at: int, executor: int) -> None:
    now = T0 + timedelta(minutes=at)
    try:
        check_take(order, executor, now)
    except OwnOrder:
        assert executor == order.client_id
    except OrderClosed:
        assert order.status is not OrderStatus.ACTIVE
    except OrderExpired:
        assert auto_close(order, now) is not None
    except OrderFull:
        assert order.takers >= order.max_executors
    else:
        assert executor != order.client_id
        assert order.status is OrderStatus.ACTIVE
        assert auto_close(order, now) is None
        assert order.takers < order.max_executors
    assert order.takers + order.free_slots == order.max_executors
    assert order.city_locked == (order.takers > 0)


@given(orders(), st.one_of(st.none(), st.integers(1, 6)), st.sets(st.integers(2, 6)))
def test_contact_visibility(order: Order, reader: int | None, takers: set[int]) -> None:
    visible = can_see_contact(order, reader, takers)
    assert visible == (reader is not None and (reader == order.client_id or reader in takers))


@given(st.integers(0, 48 * 60), st.integers(0, 6), st.booleans())
def test_report_rule(after: int, rejected: int, refunded: bool) -> None:
    take = Take("A" * 12, 2, 2, "t", T0, refunded)
    now = T0 + timedelta(minutes=after)
    ok = not refunded and now - T0 <= REPORT_WINDOW and rejected < REPORT_REJECTION_LIMIT
    if ok:
        check_report(take, now, rejected)
    else:
        with pytest.raises(ReportNotAllowed):
            check_report(take, now, rejected)
    with pytest.raises(PermissionDenied):
        check_report(None, now, rejected)
    assert dataclasses.replace(take, refunded=True).refunded
