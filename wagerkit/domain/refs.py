"""Ledger transfer ids, references and owner names: one module for every area (docs/ledger.md).

The ledger has one id space and treats a repeated transfer id as a replay (same content) or a
conflict (other content), so two areas building ids the same way would take each other's
transfers for their own. Every id is therefore built here.

* **New ids** have the form ``<area>:<kind>:<part>:<part>…``: an ``Area`` value, a kind
  (``[a-z][a-z0-9_]*``, at most 10 characters) and parts that are non-negative integers or
  texts of the idempotency-key alphabet. A ``:`` inside a text part is written ``~`` (a
  character no part may contain), so the id names exactly one (area, kind, parts): ids of
  different areas, kinds or arguments never collide (tests/property/test_refs_props.py).
* **Legacy ids** (wallets, payments, identity and events, built before areas had names) keep
  their byte-exact forms: transfers are append-only and old data must replay the same way, and
  a bet's stake id doubles as its Idempotency-Key look-up. Their first segment is one of
  ``LEGACY_PREFIXES``, never an ``Area`` value, so they cannot meet a new id either.

References (``event:<id>:bet:<id>``) name the business object a transfer is about; owner names
(``user:<id>``) name who an account belongs to (also the target of audit records).
"""

from __future__ import annotations

import re
from enum import StrEnum

from .errors import InvalidInput
from .ledger import MAX_ID_LENGTH

__all__ = [
    "LEGACY_PREFIXES",
    "Area",
    "bet_ref",
    "check_key",
    "escrow_owner",
    "event_ref",
    "expiry_void_id",
    "hold_resolution_id",
    "keyed_id",
    "outcome_ref",
    "payment_transfer_id",
    "payout_id",
    "rake_id",
    "refund_id",
    "stake_id",
    "stake_prefix",
    "transfer_id",
    "user_of",
    "user_ref",
    "welcome_id",
]

KEY_PATTERN = r"[A-Za-z0-9._:\-]{1,64}"
_KEY = re.compile(KEY_PATTERN)
_KIND = re.compile(r"[a-z][a-z0-9_]{0,9}")
KEY_RULE = "idempotency key must be 1-64 characters of A-Z a-z 0-9 . _ : -"


class Area(StrEnum):
    """The namespace of an area's new transfer ids (the first segment of the id)."""

    WALLETS = "wallets"
    PAYMENTS = "payments"
    IDENTITY = "identity"
    EVENTS = "events"
    PREDICTIONS = "predictions"
    RAFFLES = "raffles"
    ORDERS = "orders"


LEGACY_PREFIXES = frozenset(
    {
        # events
        "stake",
        "payout",
        "refund",
        "rake",
        # wallets (keyed operator commands, hold resolutions, expiry)
        "adjust",
        "grant",
        "transfer",
        "hold",
        "post",
        "void",
        # identity and payments
        "welcome",
        "payment",
        "deposit",
        "withdrawal",
    }
)
"""First segments of the ids built before areas had namespaces (disjoint from ``Area``)."""


# -- idempotency keys and owners ------------------------------------------------------------
def check_key(key: object) -> str:
    """A caller-supplied idempotency key (``Idempotency-Key``), or ``InvalidInput``."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidInput(KEY_RULE)
    return key


def user_ref(user_id: int) -> str:
    """How the ledger (account owner, reference) and the audit log name a user."""
    return f"user:{user_id}"


def user_of(owner: str) -> int | None:
    """The user id an owner name ``user:<id>`` names; None for any other owner."""
    prefix, _, uid = owner.partition(":")
    return int(uid) if prefix == "user" and uid.isdigit() else None


def escrow_owner(token: str) -> str:
    """The owner of an event's escrow account (``token`` is a fresh unique id)."""
    return f"event:{token}"


# -- new ids: <area>:<kind>:<parts> -----------------------------------------------------------
def _part(p: int | str) -> str:
    if isinstance(p, bool):
        raise ValueError("a transfer id part is an integer or a key, not a bool")
    if isinstance(p, int):
        if p < 0:
            raise ValueError("integer parts of a transfer id are non-negative")
        return str(p)
    if not isinstance(p, str) or not _KEY.fullmatch(p):
        raise ValueError(f"a text part of a transfer id must match {KEY_PATTERN}")
    return p.replace(":", "~")


def transfer_id(area: Area, kind: str, *parts: int | str) -> str:
    """The id of a transfer of ``area`` (see the module docstring). An integer part and its
    decimal text are the same argument; anything else different gives a different id."""
    if not isinstance(area, Area):
        raise ValueError(f"unknown area {area!r}")
    if not _KIND.fullmatch(kind):
        raise ValueError("a transfer kind is 1-10 characters of a-z 0-9 _, starting a-z")
    tid = ":".join((area.value, kind, *(_part(p) for p in parts)))
    if len(tid) > MAX_ID_LENGTH:
        raise ValueError(f"transfer id longer than {MAX_ID_LENGTH} characters")
    return tid


# -- legacy ids: events ------------------------------------------------------------------------
def stake_id(user_id: int, key: str) -> str:
    """A keyed bet's stake: replaying the key finds this transfer (and so the first bet)."""
    return f"stake:{user_id}:{key}"


def stake_prefix(user_id: int) -> str:
    """The ``IdFactory`` prefix of an unkeyed stake (``stake:<user>-<unique>``)."""
    return f"stake:{user_id}"


def payout_id(event_id: int, bet_id: int) -> str:
    return f"payout:{event_id}:{bet_id}"


def refund_id(event_id: int, bet_id: int) -> str:
    return f"refund:{event_id}:{bet_id}"


def rake_id(event_id: int) -> str:
    return f"rake:{event_id}"


def event_ref(event_id: int) -> str:
    """An event (the rake's reference, the target of its audit records)."""
    return f"event:{event_id}"


def outcome_ref(event_id: int, outcome_id: int) -> str:
    """A stake's reference: the outcome it backs (part of what a replay must match)."""
    return f"event:{event_id}:outcome:{outcome_id}"


def bet_ref(event_id: int, bet_id: int) -> str:
    """A payout's or refund's reference."""
    return f"event:{event_id}:bet:{bet_id}"


# -- legacy ids: wallets, identity, payments ---------------------------------------------------
def keyed_id(op: str, scope: object, key: str) -> str:
    """A keyed operator or payment command: ``<op>:<scope>:<key>`` (e.g. ``adjust:user:7:k``)."""
    return f"{op}:{scope}:{check_key(key)}"


def hold_resolution_id(kind: str, pending_id: str) -> str:
    """Posting or voiding a hold without a key: once per hold (``post:<id>``/``void:<id>``)."""
    return f"{kind}:{pending_id}"


def expiry_void_id(pending_id: str) -> str:
    """The job runner voiding an expired hold (the same id as an unkeyed void)."""
    return hold_resolution_id("void", pending_id)


def welcome_id(user_id: int, currency: str) -> str:
    return f"welcome:{user_id}:{currency}"


def payment_transfer_id(payment_id: str, step: str) -> str:
    """A payment's transfers (``credit``, ``hold``, ``post``, ``void``): once per payment."""
    return f"payment:{payment_id}:{step}"
