"""The in-memory store's data, and undo logs: each unit of work records how to undo every
change it makes, and replays that log backwards unless it commits."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from ...domain.audit import AuditEntry
from ...domain.chat import ChatMessage, Mute
from ...domain.events import Bet, Event
from ...domain.identity import User
from ...domain.ledger import Account, Transfer, TransferKind
from ...domain.payments import Payment
from ...domain.predictions import Contract, Round, RoundBet
from ...domain.prices import Tick

__all__ = ["State", "Undo", "set_undoable"]

Undo = list[Callable[[], object]]
"""A unit of work's undo log, replayed backwards on rollback."""


class State:
    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.accounts: dict[int, Account] = {}
        self.account_index: dict[tuple[str, str, str], int] = {}
        self.transfers: dict[str, Transfer] = {}
        self.journal: list[Transfer] = []
        self.by_account: defaultdict[int, list[Transfer]] = defaultdict(list)
        self.resolved: dict[str, TransferKind] = {}
        self.audit: list[AuditEntry] = []
        # payments (docs/payments.md): by id, plus the unique indexes
        self.payments: dict[str, Payment] = {}
        self.payment_keys: dict[str, str] = {}
        self.payment_refs: dict[tuple[str, str], str] = {}
        # events, bets and chat (docs/events.md); outcomes live inside their Event
        self.events: dict[int, Event] = {}
        self.outcome_ids = itertools.count(1)
        self.bets: dict[int, Bet] = {}
        self.bet_index: dict[tuple[int, int], int] = {}
        self.chat: dict[int, ChatMessage] = {}
        self.mutes: dict[int, Mute] = {}
        # price ticks (docs/prices.md): per symbol, sorted by (observed_at, source)
        self.ticks: dict[str, list[tuple[datetime, str, Tick]]] = {}
        # price predictions (docs/predictions.md): contracts, exposure rows, rounds and bets
        self.contracts: dict[int, Contract] = {}
        self.exposure: dict[tuple[str, str], int] = {}
        self.rounds: dict[int, Round] = {}
        self.round_bets: dict[int, RoundBet] = {}


def set_undoable(d: dict[Any, Any], undo: Undo, key: Any, value: Any) -> None:
    """``d[key] = value``, undone on rollback."""
    if key in d:
        undo.append(partial(d.__setitem__, key, d[key]))
    else:
        undo.append(partial(d.pop, key, None))
    d[key] = value
