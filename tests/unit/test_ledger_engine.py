"""The pure ledger engine ``plan_batch``, driven directly with hand-built views."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from wagerkit.domain.errors import (
    AccountFrozen,
    AccountNotFound,
    CreditLimitExceeded,
    CurrencyMismatch,
    ExceedsPendingAmount,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    LinkedTransferFailed,
    NotPending,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingExpired,
    PendingNotFound,
    SameAccount,
)
from wagerkit.domain.ledger import (
    Account,
    AccountFlags,
    AccountKind,
    BatchPlan,
    LedgerView,
    LinkedBatch,
    Transfer,
    TransferKind,
    TransferRequest,
    plan_batch,
)
from wagerkit.domain.money import MAX_AMOUNT

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
USER = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS

TREASURY, ALICE, BOB, ESCROW, RUB_USER, RUB_TREASURY = 1, 2, 3, 4, 5, 6

SINGLE = TransferKind.SINGLE
PENDING = TransferKind.PENDING
POST = TransferKind.POST
VOID = TransferKind.VOID


def make_accounts(alice: int = 0, bob: int = 0) -> dict[int, Account]:
    """Treasury, two funded user wallets, an escrow, and a RUB wallet and treasury.

    Funding is written straight into the totals (as if granted from the treasury earlier) so
    that every test starts from a conserved state."""
    accs = {
        TREASURY: Account(TREASURY, "COIN", AccountKind.TREASURY, "system"),
        ALICE: Account(ALICE, "COIN", AccountKind.USER, "user:1", USER),
        BOB: Account(BOB, "COIN", AccountKind.USER, "user:2", USER),
        ESCROW: Account(ESCROW, "COIN", AccountKind.ESCROW, "holds"),
        RUB_USER: Account(RUB_USER, "RUB", AccountKind.USER, "user:1", USER),
        RUB_TREASURY: Account(RUB_TREASURY, "RUB", AccountKind.TREASURY, "system"),
    }
    accs[ALICE].credits_posted = alice
    accs[BOB].credits_posted = bob
    accs[TREASURY].debits_posted = alice + bob
    return accs


def snapshot(accs: dict[int, Account]) -> dict[int, tuple[int, int, int, int]]:
    return {
        a.id: (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)
        for a in accs.values()
    }


def assert_conserved(accs: dict[int, Account]) -> None:
    for cur in {a.currency for a in accs.values()}:
        mine = [a for a in accs.values() if a.currency == cur]
        assert sum(a.debits_posted for a in mine) == sum(a.credits_posted for a in mine)
        assert sum(a.debits_pending for a in mine) == sum(a.credits_pending for a in mine)


class Ledger:
    """A tiny store around ``plan_batch`` so that tests can run several batches in a row."""

    def __init__(self, alice: int = 0, bob: int = 0) -> None:
        self.accounts = make_accounts(alice, bob)
        self.transfers: dict[str, Transfer] = {}
        self.resolved: dict[str, TransferKind] = {}

    def run(self, items: list[TransferRequest | LinkedBatch], now: datetime = NOW) -> BatchPlan:
        view = LedgerView(
            accounts={k: v.copy() for k, v in self.accounts.items()},
            existing=dict(self.transfers),
            resolved=dict(self.resolved),
        )
        plan = plan_batch(items, view, now)
        for aid, acc in plan.accounts.items():
            self.accounts[aid] = acc.copy()
        for t in plan.transfers:
            assert t.id not in self.transfers
            self.transfers[t.id] = t
        self.resolved.update(plan.resolved)
        assert len(plan.results) == sum(
            len(i.requests) if isinstance(i, LinkedBatch) else 1 for i in items
        )
        assert_conserved(self.accounts)
        return plan

    def one(self, req: TransferRequest, now: datetime = NOW) -> BatchPlan:
        return self.run([req], now)

    def acc(self, aid: int) -> Account:
        return self.accounts[aid]


def send(tid: str, dr: int, cr: int, amount: int, **kw: object) -> TransferRequest:
    return TransferRequest(tid, dr, cr, amount, **kw)  # type: ignore[arg-type]


def hold(tid: str, dr: int, cr: int, amount: int, timeout: int = 0) -> TransferRequest:
    return TransferRequest(tid, dr, cr, amount, "hold", PENDING, timeout_seconds=timeout)


def post(tid: str, pending_id: str, amount: int = 0) -> TransferRequest:
    return TransferRequest(tid, amount=amount, code="", kind=POST, pending_id=pending_id)


def void(tid: str, pending_id: str) -> TransferRequest:
    return TransferRequest(tid, code="", kind=VOID, pending_id=pending_id)


# -- single transfers ------------------------------------------------------------------------


def test_single_transfer_moves_posted_totals() -> None:
    led = Ledger(alice=100)
    plan = led.one(send("t1", ALICE, BOB, 30, code="transfer", reference="r", memo="m"))
    (res,) = plan.results
    assert res.ok
    assert not res.replayed
    assert res.error is None
    t = res.unwrap()
    assert (t.id, t.debit_account_id, t.credit_account_id, t.amount) == ("t1", ALICE, BOB, 30)
    assert (t.currency, t.kind, t.code, t.reference, t.memo) == (
        "COIN",
        SINGLE,
        "transfer",
        "r",
        "m",
    )
    assert t.timestamp == NOW
    assert t.pending_id is None
    assert t.expires_at is None
    assert plan.transfers == [t]
    assert set(plan.accounts) == {ALICE, BOB}
    a, b = led.acc(ALICE), led.acc(BOB)
    assert (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending) == (
        30,
        100,
        0,
        0,
    )
    assert (b.debits_posted, b.credits_posted, b.debits_pending, b.credits_pending) == (0, 30, 0, 0)
    assert a.balance == a.available == 70
    assert b.balance == b.available == 30


def test_balance_after_fields() -> None:
    led = Ledger(alice=100, bob=10)
    t1 = led.one(send("t1", ALICE, BOB, 30)).results[0].unwrap()
    assert (t1.debit_balance_after, t1.debit_available_after) == (70, 70)
    assert (t1.credit_balance_after, t1.credit_available_after) == (40, 40)
    h = led.one(hold("h1", ALICE, ESCROW, 20)).results[0].unwrap()
    assert (h.debit_balance_after, h.debit_available_after) == (70, 50)
    # the escrow's incoming hold does not count as balance or as available money
    assert (h.credit_balance_after, h.credit_available_after) == (0, 0)
    p = led.one(post("p1", "h1", 15)).results[0].unwrap()
    assert (p.debit_balance_after, p.debit_available_after) == (55, 55)
    assert (p.credit_balance_after, p.credit_available_after) == (15, 15)
    # treasury balances are negative: it issued the coins
    g = led.one(send("g1", TREASURY, BOB, 5)).results[0].unwrap()
    assert g.debit_balance_after == -115
    assert g.credit_balance_after == 45


def test_balance_after_within_one_batch_reflects_each_step() -> None:
    led = Ledger(alice=100)
    plan = led.run([send("a", ALICE, BOB, 10), send("b", ALICE, BOB, 20), send("c", BOB, ALICE, 5)])
    a, b, c = (r.unwrap() for r in plan.results)
    assert (a.debit_balance_after, a.credit_balance_after) == (90, 10)
    assert (b.debit_balance_after, b.credit_balance_after) == (70, 30)
    assert (c.debit_balance_after, c.credit_balance_after) == (25, 75)
    assert [t.id for t in plan.transfers] == ["a", "b", "c"]


def test_insufficient_funds_on_user_account() -> None:
    led = Ledger(alice=50)
    before = snapshot(led.accounts)
    plan = led.one(send("t1", ALICE, BOB, 51))
    (res,) = plan.results
    assert isinstance(res.error, InsufficientFunds)
    with pytest.raises(InsufficientFunds):
        res.unwrap()
    assert plan.transfers == []
    assert plan.accounts == {}
    assert snapshot(led.accounts) == before
    # exactly the balance is fine
    assert led.one(send("t2", ALICE, BOB, 50)).results[0].ok
    assert led.acc(ALICE).balance == 0


def test_empty_user_wallet_cannot_send() -> None:
    led = Ledger()
    assert isinstance(led.one(send("t", BOB, ALICE, 1)).results[0].error, InsufficientFunds)


def test_treasury_and_escrow_may_go_negative() -> None:
    led = Ledger()
    assert led.one(send("g", TREASURY, ALICE, 1_000_000)).results[0].ok
    assert led.acc(TREASURY).balance == -1_000_000
    assert led.one(send("e", ESCROW, BOB, 7)).results[0].ok
    assert led.acc(ESCROW).balance == -7


def test_holds_count_against_a_user_wallet() -> None:
    led = Ledger(alice=100)
    assert led.one(hold("h1", ALICE, ESCROW, 80)).results[0].ok
    assert led.acc(ALICE).balance == 100
    assert led.acc(ALICE).available == 20
    assert led.acc(ALICE).held == 80
    res = led.one(send("t1", ALICE, BOB, 21)).results[0]
    assert isinstance(res.error, InsufficientFunds)
    res = led.one(hold("h2", ALICE, ESCROW, 21)).results[0]
    assert isinstance(res.error, InsufficientFunds)
    assert led.one(send("t2", ALICE, BOB, 20)).results[0].ok
    assert led.acc(ALICE).available == 0


def test_incoming_pending_is_not_spendable() -> None:
    led = Ledger()
    assert led.one(hold("h", TREASURY, BOB, 50)).results[0].ok
    assert led.acc(BOB).credits_pending == 50
    assert isinstance(led.one(send("t", BOB, ALICE, 1)).results[0].error, InsufficientFunds)


def test_currency_mismatch() -> None:
    led = Ledger(alice=100)
    res = led.one(send("t", ALICE, RUB_USER, 10)).results[0]
    assert isinstance(res.error, CurrencyMismatch)
    res = led.one(send("t", RUB_TREASURY, ALICE, 10)).results[0]
    assert isinstance(res.error, CurrencyMismatch)
    # a request naming a currency other than the accounts'
    res = led.one(send("t", TREASURY, ALICE, 10, currency="RUB")).results[0]
    assert isinstance(res.error, CurrencyMismatch)
    assert led.one(send("t", TREASURY, ALICE, 10, currency="COIN")).results[0].ok
    assert led.one(send("r", RUB_TREASURY, RUB_USER, 10)).results[0].unwrap().currency == "RUB"


def test_same_account() -> None:
    led = Ledger(alice=100)
    assert isinstance(led.one(send("t", ALICE, ALICE, 10)).results[0].error, SameAccount)
    assert isinstance(led.one(send("t", TREASURY, TREASURY, 10)).results[0].error, SameAccount)


def test_unknown_account() -> None:
    led = Ledger(alice=100)
    assert isinstance(led.one(send("t", ALICE, 99, 10)).results[0].error, AccountNotFound)
    assert isinstance(led.one(send("t", 99, ALICE, 10)).results[0].error, AccountNotFound)


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT + 1])
def test_bad_amounts(amount: int) -> None:
    led = Ledger(alice=100)
    assert isinstance(led.one(send("t", TREASURY, ALICE, amount)).results[0].error, InvalidAmount)
    assert isinstance(led.one(hold("h", TREASURY, ALICE, amount)).results[0].error, InvalidAmount)


def test_total_overflow_refused() -> None:
    led = Ledger()
    assert led.one(send("a", TREASURY, ESCROW, MAX_AMOUNT)).results[0].ok
    res = led.one(send("b", TREASURY, ESCROW, 1)).results[0]
    assert isinstance(res.error, InvalidAmount)


@pytest.mark.parametrize("tid", ["", "x" * 129])
def test_bad_ids(tid: str) -> None:
    led = Ledger(alice=100)
    assert isinstance(led.one(send(tid, TREASURY, ALICE, 1)).results[0].error, InvalidInput)
    assert led.one(send("x" * 128, TREASURY, ALICE, 1)).results[0].ok


def test_timeout_only_on_pending() -> None:
    led = Ledger(alice=100)
    res = led.one(send("t", TREASURY, ALICE, 1, timeout_seconds=5)).results[0]
    assert isinstance(res.error, InvalidInput)
    res = led.one(hold("h", TREASURY, ALICE, 1, timeout=-1)).results[0]
    assert isinstance(res.error, InvalidInput)
    res = led.one(send("s", TREASURY, ALICE, 1, pending_id="x")).results[0]
    assert isinstance(res.error, InvalidInput)


def test_credits_must_not_exceed_debits() -> None:
    led = Ledger()
    led.accounts[ESCROW].flags = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
    res = led.one(send("t", TREASURY, ESCROW, 1)).results[0]
    assert isinstance(res.error, CreditLimitExceeded)
    assert led.one(send("u", ESCROW, TREASURY, 10)).results[0].ok
    assert led.one(send("t", TREASURY, ESCROW, 10)).results[0].ok
    assert isinstance(led.one(send("v", TREASURY, ESCROW, 1)).results[0].error, CreditLimitExceeded)


# -- frozen accounts -------------------------------------------------------------------------


def test_frozen_accounts_refuse_debits_credits_and_posts_but_not_voids() -> None:
    led = Ledger(alice=100, bob=100)
    assert led.one(hold("h1", ALICE, ESCROW, 30)).results[0].ok
    assert led.one(hold("h2", ALICE, ESCROW, 30)).results[0].ok
    led.accounts[ALICE].flags |= AccountFlags.FROZEN
    before = snapshot(led.accounts)
    for req in (
        send("a", ALICE, BOB, 1),
        send("b", BOB, ALICE, 1),
        send("c", TREASURY, ALICE, 1),
        hold("d", ALICE, ESCROW, 1),
        hold("e", TREASURY, ALICE, 1),
        post("p1", "h1"),
    ):
        assert isinstance(led.one(req).results[0].error, AccountFrozen), req
    assert snapshot(led.accounts) == before
    v = led.one(void("v2", "h2")).results[0]
    assert v.ok
    assert led.acc(ALICE).debits_pending == 30
    led.accounts[ALICE].flags &= ~AccountFlags.FROZEN
    assert led.one(post("p1", "h1")).results[0].ok
    assert led.one(send("a", ALICE, BOB, 1)).results[0].ok
    assert led.acc(ALICE).balance == 69


# -- two-phase transfers ---------------------------------------------------------------------


def test_pending_then_post_full() -> None:
    led = Ledger(alice=100)
    h = led.one(hold("h", ALICE, ESCROW, 40)).results[0].unwrap()
    assert h.kind is PENDING
    assert h.amount == 40
    a, e = led.acc(ALICE), led.acc(ESCROW)
    assert (a.debits_posted, a.debits_pending) == (0, 40)
    assert (e.credits_posted, e.credits_pending) == (0, 40)
    p = led.one(post("p", "h")).results[0].unwrap()
    assert p.kind is POST
    assert p.pending_id == "h"
    assert p.amount == 40
    assert (p.debit_account_id, p.credit_account_id) == (ALICE, ESCROW)
    assert p.code == "hold"  # an empty code is taken from the pending transfer
    assert led.resolved == {"h": POST}
    a, e = led.acc(ALICE), led.acc(ESCROW)
    assert (a.debits_posted, a.debits_pending, a.balance, a.available) == (40, 0, 60, 60)
    assert (e.credits_posted, e.credits_pending, e.balance) == (40, 0, 40)


def test_post_partial_releases_the_rest() -> None:
    led = Ledger(alice=100)
    led.one(hold("h", ALICE, ESCROW, 40))
    p = led.one(post("p", "h", 15)).results[0].unwrap()
    assert p.amount == 15
    a, e = led.acc(ALICE), led.acc(ESCROW)
    assert (a.debits_posted, a.debits_pending, a.balance, a.available) == (15, 0, 85, 85)
    assert (e.credits_posted, e.credits_pending) == (15, 0)


def test_post_exceeding_pending_refused() -> None:
    led = Ledger(alice=100)
    led.one(hold("h", ALICE, ESCROW, 40))
    before = snapshot(led.accounts)
    res = led.one(post("p", "h", 41)).results[0]
    assert isinstance(res.error, ExceedsPendingAmount)
    assert snapshot(led.accounts) == before
    assert led.resolved == {}
    assert led.one(post("p", "h", 40)).results[0].ok


def test_void_releases_everything() -> None:
    led = Ledger(alice=100)
    led.one(hold("h", ALICE, ESCROW, 40))
    v = led.one(void("v", "h")).results[0].unwrap()
    assert v.kind is VOID
    assert v.amount == 40
    assert v.pending_id == "h"
    a, e = led.acc(ALICE), led.acc(ESCROW)
    assert (a.debits_posted, a.debits_pending, a.available) == (0, 0, 100)
    assert (e.credits_posted, e.credits_pending) == (0, 0)
    assert led.resolved == {"h": VOID}


def test_void_with_partial_amount_refused() -> None:
    led = Ledger(alice=100)
    led.one(hold("h", ALICE, ESCROW, 40))
    req = TransferRequest("v", amount=10, code="", kind=VOID, pending_id="h")
    assert isinstance(led.one(req).results[0].error, InvalidAmount)
    req = TransferRequest("v", amount=40, code="", kind=VOID, pending_id="h")
    assert led.one(req).results[0].ok


@pytest.mark.parametrize(
    ("first", "second", "error"),
    [
        (POST, POST, PendingAlreadyPosted),
        (POST, VOID, PendingAlreadyPosted),
        (VOID, VOID, PendingAlreadyVoided),
        (VOID, POST, PendingAlreadyVoided),
    ],
)
def test_pending_resolved_at_most_once(
    first: TransferKind, second: TransferKind, error: type[Exception]
) -> None:
    led = Ledger(alice=100)
    led.one(hold("h", ALICE, ESCROW, 40))
    make = {POST: post, VOID: void}
    assert led.one(make[first]("r1", "h")).results[0].ok
    before = snapshot(led.accounts)
    res = led.one(make[second]("r2", "h")).results[0]
    assert isinstance(res.error, error)
    assert snapshot(led.accounts) == before


def test_post_after_timeout_is_expired_but_void_works() -> None:
    led = Ledger(alice=100)
    h = led.one(hold("h", ALICE, ESCROW, 40, timeout=60)).results[0].unwrap()
    assert h.timeout_seconds == 60
    assert h.expires_at == NOW + timedelta(seconds=60)
    # one second before the deadline a post would still be fine (checked on a copy)
    early = Ledger(alice=100)
    early.one(hold("h", ALICE, ESCROW, 40, timeout=60))
    assert early.one(post("p", "h"), NOW + timedelta(seconds=59)).results[0].ok
    # at the deadline it is expired
    res = led.one(post("p", "h"), NOW + timedelta(seconds=60)).results[0]
    assert isinstance(res.error, PendingExpired)
    res = led.one(post("p", "h", 1), NOW + timedelta(hours=5)).results[0]
    assert isinstance(res.error, PendingExpired)
    assert led.acc(ALICE).debits_pending == 40
    assert led.one(void("v", "h"), NOW + timedelta(hours=5)).results[0].ok
    assert led.acc(ALICE).debits_pending == 0
    assert led.acc(ALICE).available == 100


def test_pending_without_timeout_never_expires() -> None:
    led = Ledger(alice=100)
    led.one(hold("h", ALICE, ESCROW, 40))
    assert led.one(post("p", "h"), NOW + timedelta(days=3650)).results[0].ok


def test_post_of_unknown_or_non_pending() -> None:
    led = Ledger(alice=100)
    led.one(send("s", ALICE, BOB, 10))
    assert isinstance(led.one(post("p", "nope")).results[0].error, PendingNotFound)
    assert isinstance(led.one(void("v", "nope")).results[0].error, PendingNotFound)
    assert isinstance(led.one(post("p", "s")).results[0].error, NotPending)
    assert isinstance(led.one(void("v", "s")).results[0].error, NotPending)
    noref = TransferRequest("p", code="", kind=POST)
    assert isinstance(led.one(noref).results[0].error, InvalidInput)


def test_post_naming_other_accounts_refused() -> None:
    led = Ledger(alice=100)
    led.one(hold("h", ALICE, ESCROW, 40))
    req = TransferRequest("p", ALICE, BOB, 0, "", POST, pending_id="h")
    assert isinstance(led.one(req).results[0].error, InvalidInput)
    req = TransferRequest("p", ALICE, ESCROW, 0, "", POST, pending_id="h")
    assert led.one(req).results[0].ok


def test_post_of_pending_created_earlier_in_the_same_batch() -> None:
    led = Ledger(alice=100)
    plan = led.run([hold("h", ALICE, ESCROW, 40), post("p", "h", 25)])
    h, p = (r.unwrap() for r in plan.results)
    assert h.kind is PENDING
    assert p.kind is POST
    assert p.amount == 25
    assert plan.resolved == {"h": POST}
    assert led.acc(ALICE).balance == 75
    assert led.acc(ALICE).debits_pending == 0
    # and resolving it again in the same batch is refused
    plan = led.run([hold("h2", ALICE, ESCROW, 10), void("v2", "h2"), post("p2", "h2")])
    assert plan.results[0].ok
    assert plan.results[1].ok
    assert isinstance(plan.results[2].error, PendingAlreadyVoided)


# -- idempotency -----------------------------------------------------------------------------


def test_idempotent_replay_moves_nothing() -> None:
    led = Ledger(alice=100)
    req = send("t1", ALICE, BOB, 30, memo="hi")
    first = led.one(req).results[0].unwrap()
    before = snapshot(led.accounts)
    plan = led.one(req)
    (res,) = plan.results
    assert res.ok
    assert res.replayed
    assert res.transfer == first
    assert plan.transfers == []
    assert plan.accounts == {}
    assert snapshot(led.accounts) == before


def test_replay_is_checked_before_the_current_state() -> None:
    """A replay succeeds even when the same command would now be refused."""
    led = Ledger(alice=30)
    req = send("t1", ALICE, BOB, 30)
    assert led.one(req).results[0].ok
    led.accounts[ALICE].flags |= AccountFlags.FROZEN
    res = led.one(req).results[0]
    assert res.replayed
    assert res.ok


@pytest.mark.parametrize(
    "other",
    [
        send("t1", ALICE, BOB, 31),
        send("t1", ALICE, TREASURY, 30),
        send("t1", BOB, ALICE, 30),
        send("t1", ALICE, BOB, 30, memo="other"),
        send("t1", ALICE, BOB, 30, reference="x"),
        send("t1", ALICE, BOB, 30, code="stake"),
        send("t1", ALICE, BOB, 30, currency="RUB"),
        hold("t1", ALICE, BOB, 30),
    ],
)
def test_same_id_different_content_conflicts(other: TransferRequest) -> None:
    led = Ledger(alice=100)
    assert led.one(send("t1", ALICE, BOB, 30)).results[0].ok
    before = snapshot(led.accounts)
    res = led.one(other).results[0]
    assert isinstance(res.error, IdempotencyConflict)
    assert snapshot(led.accounts) == before


def test_refused_request_leaves_no_trace_and_can_be_retried() -> None:
    led = Ledger(alice=10)
    req = send("t1", ALICE, BOB, 30)
    assert isinstance(led.one(req).results[0].error, InsufficientFunds)
    assert "t1" not in led.transfers
    led.one(send("g", TREASURY, ALICE, 20))
    res = led.one(req).results[0]
    assert res.ok
    assert not res.replayed


def test_replay_of_post_and_void() -> None:
    led = Ledger(alice=100)
    led.run([hold("h1", ALICE, ESCROW, 40), hold("h2", ALICE, ESCROW, 40)])
    p = led.one(post("p", "h1", 10)).results[0].unwrap()
    v = led.one(void("v", "h2")).results[0].unwrap()
    before = snapshot(led.accounts)
    rp = led.one(post("p", "h1", 10)).results[0]
    rv = led.one(void("v", "h2")).results[0]
    assert rp.replayed
    assert rp.transfer == p
    assert rv.replayed
    assert rv.transfer == v
    assert snapshot(led.accounts) == before
    # same id, same hold, other amount: the hold is already resolved (the specific error)
    again = TransferRequest("p", amount=20, code="", kind=POST, pending_id="h1")
    assert isinstance(led.one(again).results[0].error, PendingAlreadyPosted)
    conflict = TransferRequest("v", code="", kind=VOID, pending_id="h1")
    assert isinstance(led.one(conflict).results[0].error, IdempotencyConflict)


def test_replay_within_the_same_batch() -> None:
    led = Ledger(alice=100)
    req = send("t1", ALICE, BOB, 30)
    plan = led.run([req, req, send("t1", ALICE, BOB, 31)])
    first, again, other = plan.results
    assert first.ok
    assert not first.replayed
    assert again.ok
    assert again.replayed
    assert again.transfer is not None
    assert again.transfer.id == "t1"
    assert again.transfer.amount == 30
    assert isinstance(other.error, IdempotencyConflict)
    assert len(plan.transfers) == 1
    assert led.acc(ALICE).balance == 70
    assert led.acc(BOB).balance == 30


# -- linked batches --------------------------------------------------------------------------


def test_linked_batch_succeeds_together() -> None:
    led = Ledger(alice=100)
    batch = LinkedBatch([send("stake", ALICE, ESCROW, 50), send("fee", ALICE, TREASURY, 5)])
    plan = led.run([batch])
    assert all(r.ok and not r.replayed for r in plan.results)
    assert [t.id for t in plan.transfers] == ["stake", "fee"]
    assert led.acc(ALICE).balance == 45


@pytest.mark.parametrize("failing_index", [0, 1, 2])
def test_linked_batch_all_or_nothing(failing_index: int) -> None:
    led = Ledger(alice=100, bob=100)
    good = [
        send("a", ALICE, ESCROW, 50),
        hold("b", BOB, ESCROW, 20),
        send("c", TREASURY, BOB, 5),
    ]
    members = list(good)
    members[failing_index] = send(good[failing_index].id, ALICE, ALICE, 1)  # SameAccount
    before = snapshot(led.accounts)
    plan = led.run([LinkedBatch(members)])
    for i, res in enumerate(plan.results):
        assert res.request_id == members[i].id
        if i == failing_index:
            assert isinstance(res.error, SameAccount)
        else:
            assert isinstance(res.error, LinkedTransferFailed)
        assert res.transfer is None
    assert plan.transfers == []
    assert plan.accounts == {}
    assert plan.resolved == {}
    assert snapshot(led.accounts) == before
    # nothing was recorded, so the ids are free for the corrected batch
    assert all(r.ok for r in led.run([LinkedBatch(good)]).results)


def test_linked_failure_on_funds_caused_by_an_earlier_member() -> None:
    led = Ledger(alice=100)
    batch = LinkedBatch([send("a", ALICE, BOB, 80), send("b", ALICE, ESCROW, 30)])
    plan = led.run([batch])
    assert isinstance(plan.results[0].error, LinkedTransferFailed)
    assert isinstance(plan.results[1].error, InsufficientFunds)
    assert led.acc(ALICE).balance == 100
    assert led.acc(BOB).balance == 0


def test_linked_failure_does_not_affect_independent_neighbours() -> None:
    led = Ledger(alice=100)
    items: list[TransferRequest | LinkedBatch] = [
        send("before", ALICE, BOB, 10),
        LinkedBatch([send("l1", ALICE, BOB, 10), send("l2", ALICE, RUB_USER, 10)]),
        send("after", ALICE, BOB, 10),
    ]
    plan = led.run(items)
    r = plan.results
    assert r[0].ok
    assert r[3].ok
    assert isinstance(r[1].error, LinkedTransferFailed)
    assert isinstance(r[2].error, CurrencyMismatch)
    assert [t.id for t in plan.transfers] == ["before", "after"]
    assert led.acc(ALICE).balance == 80
    assert led.acc(BOB).balance == 20
    # the rolled-back ids can be used later in the same batch
    plan = led.run(
        [LinkedBatch([send("x1", ALICE, BOB, 1), post("x2", "missing")]), send("x1", ALICE, BOB, 1)]
    )
    assert isinstance(plan.results[0].error, LinkedTransferFailed)
    assert isinstance(plan.results[1].error, PendingNotFound)
    assert plan.results[2].ok
    assert not plan.results[2].replayed


def test_linked_failure_restores_resolved_holds() -> None:
    led = Ledger(alice=100)
    led.one(hold("h", ALICE, ESCROW, 40))
    plan = led.run([LinkedBatch([post("p", "h"), send("bad", ALICE, BOB, 1000)]), void("v", "h")])
    assert isinstance(plan.results[0].error, LinkedTransferFailed)
    assert isinstance(plan.results[1].error, InsufficientFunds)
    assert plan.results[2].ok  # the hold was still unresolved after the rollback
    assert led.resolved == {"h": VOID}
    assert led.acc(ALICE).available == 100


def test_linked_batch_with_pending_and_its_post() -> None:
    led = Ledger(alice=100)
    plan = led.run([LinkedBatch([hold("h", ALICE, ESCROW, 40), post("p", "h", 30)])])
    assert all(r.ok for r in plan.results)
    assert led.acc(ALICE).balance == 70
    assert led.acc(ESCROW).balance == 30
    assert led.resolved == {"h": POST}


def test_linked_batch_replay() -> None:
    led = Ledger(alice=100)
    batch = LinkedBatch([send("a", ALICE, ESCROW, 50), send("b", ALICE, TREASURY, 5)])
    first = led.run([batch]).results
    before = snapshot(led.accounts)
    again = led.run([batch])
    assert all(r.ok and r.replayed for r in again.results)
    assert [r.transfer for r in again.results] == [r.transfer for r in first]
    assert snapshot(led.accounts) == before
    # part replay, part new: the batch as a whole is refused
    partly = LinkedBatch([send("a", ALICE, ESCROW, 50), send("c", ALICE, TREASURY, 5)])
    plan = led.run([partly])
    assert not any(r.ok for r in plan.results)
    assert any(isinstance(r.error, IdempotencyConflict) for r in plan.results)
    assert snapshot(led.accounts) == before
    assert plan.transfers == []
    # altered content of one member
    altered = LinkedBatch([send("a", ALICE, ESCROW, 50), send("b", ALICE, TREASURY, 6)])
    plan = led.run([altered])
    assert isinstance(plan.results[0].error, LinkedTransferFailed)
    assert isinstance(plan.results[1].error, IdempotencyConflict)
    assert snapshot(led.accounts) == before


def test_plan_reports_only_changed_accounts() -> None:
    led = Ledger(alice=100)
    plan = led.run([send("a", ALICE, BOB, 1), send("b", ALICE, RUB_USER, 1)])
    assert set(plan.accounts) == {ALICE, BOB}
    assert [t.id for t in plan.transfers] == ["a"]


def test_plan_batch_updates_the_view_in_place() -> None:
    accs = make_accounts(alice=100)
    view = LedgerView(accounts=accs)
    plan = plan_batch([send("a", ALICE, BOB, 10)], view, NOW)
    assert view.accounts[ALICE].balance == 90
    assert plan.accounts[ALICE] is view.accounts[ALICE]
    assert dataclasses.replace(plan.transfers[0]).seq == 0  # the store assigns seq
